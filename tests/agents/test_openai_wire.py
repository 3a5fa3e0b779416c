"""Agents on the OpenAI-compatible wire, end to end against ScriptedOpenAI (CONSTRUCTED vLLM-shaped SSE), and
parity with the Ollama wire: the same scripted conversation gives the same tool calls and answer on both."""

from __future__ import annotations

import pytest

from castling import Agent, Llama, Qwen
from castling.scripted_openai import ScriptedOpenAI
from castling.testing import ScriptedOllama
from tests.agents import plan_script
from tests.conftest import weather

MODEL = "Qwen/Qwen3-8B"


@pytest.fixture
def scripted() -> ScriptedOpenAI:
    return ScriptedOpenAI(MODEL)


def qwen_agent(scripted: ScriptedOpenAI, **kwargs) -> Agent:
    return Agent(Qwen(MODEL, server="openai", transport=scripted.transport), tools=[weather], **kwargs)


def test_tool_loop_end_to_end(scripted):
    scripted.add_reply(
        thinking="Two cities.", tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})]
    )
    scripted.add_reply("Paris is sunny, Lyon is rainy.")
    result = qwen_agent(scripted).run("Weather in Paris and Lyon?")
    assert result.answer == "Paris is sunny, Lyon is rainy."
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [
        ("weather", {"city": "Paris"}, "sunny, 21 C"),
        ("weather", {"city": "Lyon"}, "rain, 15 C"),
    ]
    follow_up = scripted.requests[1]["messages"]
    ids = [call["id"] for call in follow_up[-3]["tool_calls"]]
    assert [(m["role"], m["tool_call_id"], m["content"]) for m in follow_up[-2:]] == [
        ("tool", ids[0], "sunny, 21 C"),
        ("tool", ids[1], "rain, 15 C"),
    ]
    assert result.usage.calls == 2 and result.usage.prompt_tokens == 40
    assert scripted.pending == 0


async def test_tool_loop_end_to_end_async(scripted):
    scripted.add_reply(tool_calls=[("weather", {"city": "Lyon"})])
    scripted.add_reply("Rain in Lyon.")
    result = await qwen_agent(scripted).arun("Weather in Lyon?")
    assert result.answer == "Rain in Lyon."
    assert [(c.name, c.result) for c in result.tool_calls] == [("weather", "rain, 15 C")]


def test_qwen_tool_call_left_in_content_is_recovered(scripted):
    # vLLM without a matching parser (or a Qwen3-Coder XML call, vllm#21571) leaves the call in the text
    scripted.add_reply('<think>Need weather.</think>\n<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}')
    scripted.add_reply("Sunny in Paris.")
    result = qwen_agent(scripted).run("Weather in Paris?")
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("weather", {"city": "Paris"})]
    assert result.messages[1].additional_kwargs["recovered_tool_calls"] is True
    assert result.answer == "Sunny in Paris."


def test_unreadable_arguments_make_the_model_try_again_instead_of_failing(scripted):
    head = {"index": 0, "id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": Paris'}}
    scripted.add_events([{"choices": [{"index": 0, "delta": {"tool_calls": [head]}, "finish_reason": "tool_calls"}]}])
    scripted.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    scripted.add_reply("Sunny.")
    result = qwen_agent(scripted).run("Weather in Paris?")
    assert result.answer == "Sunny." and [c.arguments for c in result.tool_calls] == [{"city": "Paris"}]
    repair_note = scripted.requests[1]["messages"][-1]["content"]
    assert "could not be read" in repair_note and "not JSON" in repair_note


def test_plan_strategy_with_llama_sends_response_format_and_no_tools():
    scripted = ScriptedOpenAI("meta-llama/Llama-3.1-8B-Instruct")
    answer = plan_script.script_paris_lyon(scripted)
    backbone = Llama(scripted.model, server="openai", transport=scripted.transport)
    result = Agent(backbone, tools=[plan_script.weather]).run("Compare the weather in Paris and Lyon.")
    assert result.answer == answer
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("weather", {"city": "Paris"}),
        ("weather", {"city": "Lyon"}),
    ]
    formats = [r["response_format"] for r in scripted.requests]
    assert all(f["type"] == "json_schema" and f["json_schema"]["strict"] is True for f in formats)
    assert all(isinstance(f["json_schema"]["schema"], dict) for f in formats)
    assert not any(r.get("tools") for r in scripted.requests)


def script(server: ScriptedOllama | ScriptedOpenAI) -> None:
    """One conversation, scripted the same way on either wire (constructed)."""
    server.add_reply(
        thinking="Both cities.", tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})]
    )
    server.add_reply(tool_calls=[("weather", {"city": "Nice"})])
    server.add_reply("Paris: sunny. Lyon: rain. Nice: unknown.")


def test_parity_the_same_conversation_on_both_wires():
    ollama, openai = ScriptedOllama("qwen3:8b"), ScriptedOpenAI("qwen3:8b")
    script(ollama)
    script(openai)
    on_ollama = Agent(Qwen("qwen3:8b", transport=ollama.transport), tools=[weather]).run("Weather?")
    on_openai = Agent(Qwen("qwen3:8b", server="openai", transport=openai.transport), tools=[weather]).run("Weather?")
    calls = [(c.name, c.arguments, c.result) for c in on_ollama.tool_calls]
    assert calls == [(c.name, c.arguments, c.result) for c in on_openai.tool_calls]
    assert len(calls) == 3
    assert on_ollama.answer == on_openai.answer == "Paris: sunny. Lyon: rain. Nice: unknown."
    assert on_ollama.messages[1].additional_kwargs == on_openai.messages[1].additional_kwargs  # the thinking
    # the model saw the same conversation: same roles and texts in the same order
    seen_ollama = [(m["role"], m.get("content") or "") for m in ollama.requests[-1]["messages"]]
    seen_openai = [(m["role"], m.get("content") or "") for m in openai.requests[-1]["messages"]]
    assert seen_ollama == seen_openai


def test_parity_of_the_plan_strategy_on_both_wires():
    ollama = ScriptedOllama("llama3.1:8b", capabilities=("completion", "tools"))
    openai = ScriptedOpenAI("llama3.1:8b")
    answers = [plan_script.script_paris_lyon(server) for server in (ollama, openai)]
    results = [
        Agent(Llama("llama3.1:8b", transport=ollama.transport), tools=[plan_script.weather]).run("Compare."),
        Agent(Llama("llama3.1:8b", server="openai", transport=openai.transport), tools=[plan_script.weather]).run(
            "Compare."
        ),
    ]
    assert [r.answer for r in results] == answers
    assert [(c.name, c.arguments) for c in results[0].tool_calls] == [
        (c.name, c.arguments) for c in results[1].tool_calls
    ]
    assert [r["format"] for r in ollama.requests] == [
        r["response_format"]["json_schema"]["schema"] for r in openai.requests
    ]


def test_run_result_repr_counts_the_conversation_instead_of_printing_it(scripted):
    # asyncio.run(agent.arun(...)) formats its result's repr on the way out (Python 3.11's SIGINT handler check):
    # a repr of every message cost ~17 ms for a 50-step run
    scripted.add_reply(tool_calls=[("weather", {"city": "Lyon"})])
    scripted.add_reply("Rain in Lyon.")
    result = qwen_agent(scripted).run("Weather in Lyon?")
    text = repr(result)
    assert text.startswith("RunResult(answer='Rain in Lyon.', stop_reason='answer', messages=<4 messages>")
    assert "tool_calls=<1 calls>" in text and "rain, 15 C" not in text and "Weather in Lyon?" not in text
