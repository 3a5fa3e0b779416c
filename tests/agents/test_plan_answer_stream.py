"""The plan strategy's final answer is streamed as text deltas while the model writes the JSON holding it.

Replies are constructed in Ollama's wire shape with ScriptedOllama (streamed in 8-character pieces) or fed to
`AnswerStream` directly in pieces of every size.
"""

import json

import pytest

from castling import Agent, Llama
from castling.agents.plan.stream import AnswerStream, always, rest_of, when_done, when_no_steps
from castling.testing import ScriptedOllama
from tests.agents.plan_script import PARIS, act, done, plan, weather

TRICKY = 'Line one\nsays "quoted" \\ back, caf\u00e9 \U0001f600 done'


def pieces(text, size):
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 5, 13, 1000])
def test_escapes_and_surrogate_pairs_split_anywhere_are_decoded(size):
    text = json.dumps({"done": True, "answer": TRICKY, "steps": []})  # ensure_ascii: \\u escapes, a surrogate pair
    stream = AnswerStream(when_done)
    assert "".join(stream.feed(p) for p in pieces(text, size)) == TRICKY


@pytest.mark.parametrize(
    ("gate", "reply"),
    [
        (when_done, {"done": False, "answer": "not final", "steps": [{"goal": "x", "tool": None}]}),
        (when_no_steps, {"steps": [{"goal": "x", "tool": None}], "answer": "not final"}),
        (when_done, {"answer": "order unknown", "done": True, "steps": []}),  # a reply that ignored the schema
    ],
)
def test_answers_that_are_not_final_or_not_known_final_are_not_streamed(gate, reply):
    stream = AnswerStream(gate)
    assert "".join(stream.feed(p) for p in pieces(json.dumps(reply), 3)) == ""


def test_rest_of_gives_what_the_stream_did_not_show():
    assert rest_of("Go to Lyon.", "Go to Lyon.") == ""
    assert rest_of("Go to Lyon.", " Go to") == " Lyon."
    assert rest_of("Go to Lyon.", "") == "Go to Lyon."
    assert rest_of("Go to Lyon.", "Something else") == "Go to Lyon."
    assert AnswerStream(always).feed('{"answer": "ok"}') == "ok"


def texts(events):
    return [e.text for e in events if e.kind == "text"]


def test_a_direct_answer_from_the_planner_streams_in_pieces():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(answer="Hello! How can I help you today?"))
    events = list(Agent(Llama(server.model, transport=server.transport), tools=[weather]).stream("hi"))
    assert len(texts(events)) > 1 and "".join(texts(events)) == "Hello! How can I help you today?"
    assert events[-1].result.answer == "Hello! How can I help you today?"


def test_an_answer_cut_off_and_retried_is_not_shown_twice():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(PARIS))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(done("Rain in Paris, so take an umbrella.")[:40], done_reason="length")
    server.add_reply(done("Rain in Paris, so take an umbrella."))
    events = list(Agent(Llama(server.model, transport=server.transport), tools=[weather]).stream("Paris?"))
    assert "".join(texts(events)) == "Rain in Paris, so take an umbrella."
    assert events[-1].result.answer == "Rain in Paris, so take an umbrella."
