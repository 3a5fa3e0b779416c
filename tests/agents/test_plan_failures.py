"""The plan strategy's failure modes (issue 5): cut-off/invalid structured output, unknown tools, `[]`, limits.

Traffic is scripted (constructed) in Ollama's wire shape, except where a test says it replays a real recording.
"""

import json
from pathlib import Path

import pytest
import yaml

from castling import Agent, Llama, ReplanLimitExceeded, StepLimitExceeded, StructuredOutputError
from castling.testing import ScriptedOllama
from tests.agents.plan_script import LYON, PARIS, act, done, more, plan, weather

FIXTURES = Path("/work/shared/fixtures")
TASK = "Compare the weather in Paris and Lyon and tell me where to go."


@pytest.fixture
def server():
    return ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))


def agent_for(server, **kwargs):
    return Agent(Llama(server.model, transport=server.transport), tools=[weather], **kwargs)


def recorded_length_stream():
    """The real llama3.1 stream cut off by num_predict (dotnet/extensions recording, done_reason "length")."""
    exchanges = json.loads((FIXTURES / "11_dotnet_extensions_llama3.1_apichat_exchanges.json").read_text())["exchanges"]
    lines = next(e["response_ndjson"] for e in exchanges if e["name"] == "BasicRequestResponse_Streaming")
    assert lines[-1]["done_reason"] == "length"
    return lines


def test_reply_cut_off_by_num_predict_is_retried_once_with_feedback(server):
    server.add_lines(recorded_length_stream())
    server.add_reply(plan(answer="Hello!"))
    result = agent_for(server).run("hello")
    assert result.answer == "Hello!"
    retry = server.requests[1]["messages"]
    assert retry[-2] == {
        "role": "assistant",
        "content": "".join(c["message"]["content"] for c in recorded_length_stream()),
    }
    assert "num_predict" in retry[-1]["content"] and retry[-1]["role"] == "user"
    assert result.usage.calls == 2  # the cut-off call counts too


def test_two_cut_off_replies_raise_a_clear_error(server):
    server.add_lines(recorded_length_stream())
    server.add_reply('{"steps": [{"goal": "Get the wea', done_reason="length")
    with pytest.raises(StructuredOutputError, match="num_predict") as caught:
        agent_for(server).run("hello")
    assert caught.value.done_reason == "length" and caught.value.content.startswith('{"steps"')
    assert server.pending == 0


def recorded_prose_stream():
    """A real llama3 NDJSON stream of plain prose (openllmetry cassette): a model that ignored `format`."""
    cassette = yaml.safe_load((FIXTURES / "10_openllmetry_llama3_apichat_ndjson_stream.yaml").read_text())
    body = cassette["interactions"][0]["response"]["body"]["string"]
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_prose_instead_of_json_is_retried_once(server):
    server.add_lines(recorded_prose_stream())
    server.add_reply(plan(answer="Hello!"))
    assert agent_for(server).run("hello").answer == "Hello!"
    assert "not valid JSON" in server.requests[1]["messages"][-1]["content"]


def test_invalid_json_twice_raises_a_clear_error(server):
    server.add_lines(recorded_prose_stream())
    server.add_reply("I will check Paris first.")
    with pytest.raises(StructuredOutputError, match="Plan twice") as caught:
        agent_for(server).run(TASK)
    assert caught.value.done_reason == "stop" and caught.value.content == "I will check Paris first."


def test_plan_naming_an_unknown_tool_is_replanned_with_the_tool_list(server):
    server.add_reply(plan(("Search the web for Paris weather", "web_search")))
    server.add_reply(plan(PARIS))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(done("Paris: rain."))
    result = agent_for(server).run("Weather in Paris?")
    note = server.requests[1]["messages"][-1]["content"]
    assert "web_search" in note and "available tools are: weather" in note
    assert result.answer == "Paris: rain." and [c.name for c in result.tool_calls] == ["weather"]
    assert "unknown tools" in result.plan.history[0].reason


def test_a_plan_that_keeps_naming_unknown_tools_stops_at_max_replans(server):
    for _ in range(2):
        server.add_reply(plan(("Search the web", "web_search")))
    result = agent_for(server, max_replans=1).run("Weather in Paris?")
    assert result.stop_reason == "max_replans" and "max_replans=1" in result.answer
    assert result.tool_calls == [] and server.pending == 0


def test_empty_call_list_from_the_executor_is_no_call_and_does_not_loop(server):
    """Llama answering `[]` where a step action was asked (real llama3.2 behaviour after a tool result)."""
    server.add_reply(plan(PARIS))
    server.add_reply("[]")
    server.add_reply(done("I have no weather data."))
    result = agent_for(server).run("Weather in Paris?")
    assert result.steps[0].tool_calls == [] and "no result" in result.steps[0].outcome
    assert result.answer == "I have no weather data." and len(server.requests) == 3


def test_executor_call_written_as_a_pythonic_list_is_run(server):
    """A model that ignores `format` and writes Llama 3.2's pythonic call (ollama#7824) still gets its tool run."""
    server.add_reply(plan(LYON))
    server.add_reply("[weather(city='Lyon')]")
    server.add_reply(done("Lyon: sun."))
    result = agent_for(server).run("Weather in Lyon?")
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [("weather", {"city": "Lyon"}, "sun, 22 C")]


def test_max_steps_stops_with_an_answer_that_says_so(server):
    server.add_reply(plan(PARIS, LYON))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(LYON))
    result = agent_for(server, max_steps=1).run(TASK)
    assert result.stop_reason == "max_steps" and "max_steps=1" in result.answer
    assert "rain, 14 C" in result.answer  # the results gathered so far are kept
    assert len(result.steps) == 1 and server.pending == 0


def test_max_steps_can_raise(server):
    server.add_reply(plan(PARIS, LYON))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(LYON))
    with pytest.raises(StepLimitExceeded):
        agent_for(server, max_steps=1, on_max_steps="error").run(TASK)


def test_max_replans_stops_a_plan_that_keeps_changing(server):
    server.add_reply(plan(PARIS))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(LYON))  # revision 1 (allowed)
    server.add_reply(act("weather", city="Lyon"))
    server.add_reply(more(("Get the weather in Paris again", "weather")))  # revision 2: over the limit
    result = agent_for(server, max_replans=1).run(TASK)
    assert result.stop_reason == "max_replans" and "max_replans=1" in result.answer
    assert result.plan.revisions == 1 and len(result.steps) == 2 and server.pending == 0


def test_max_replans_can_raise(server):
    server.add_reply(plan(PARIS))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(LYON))
    with pytest.raises(ReplanLimitExceeded):
        agent_for(server, max_replans=0, on_max_steps="error").run(TASK)


def test_unknown_strategy_is_a_config_error():
    from castling import ConfigError

    with pytest.raises(ConfigError, match="Unknown strategy"):
        Agent(Llama("llama3.2:3b"), strategy="dance")


async def test_async_run_retries_and_replans_like_the_sync_one(server):
    server.add_reply('{"steps": [{"goal": "Get the wea', done_reason="length")
    server.add_reply(plan(("Search the web", "web_search")))
    server.add_reply(plan(PARIS))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more())  # nothing left and no answer: the responder writes it
    server.add_reply('{"answer": "Paris: rain."}')
    result = await agent_for(server).arun("Weather in Paris?")
    assert result.answer == "Paris: rain." and [c.result for c in result.tool_calls] == ["rain, 14 C"]
    assert "num_predict" in server.requests[1]["messages"][-1]["content"]
    assert "available tools are: weather" in server.requests[2]["messages"][-1]["content"]
    assert result.usage.calls == 6 and server.pending == 0


async def test_async_cut_off_twice_raises(server):
    server.add_reply(thinking="Let me think about the plan at length", done_reason="length")
    server.add_reply(thinking="Still thinking", done_reason="length")
    with pytest.raises(StructuredOutputError, match="think=False"):
        await agent_for(server).arun("hello")


def test_plan_steps_written_as_plain_strings_are_read_as_goals(server):
    server.add_reply('{"steps": ["Get the weather in Paris"]}')
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(done("Paris: rain."))
    result = agent_for(server).run("Weather in Paris?")
    assert [(p.goal, p.tool) for p in result.plan.steps] == [("Get the weather in Paris", None)]
    assert result.tool_calls[0].result == "rain, 14 C"
