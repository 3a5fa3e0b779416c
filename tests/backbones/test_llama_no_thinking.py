"""Llama has no thinking mode: it never asks for thinking, on either wire, whatever the server claims.

OpenAI-compatible servers say nothing of capabilities, so castling assumes every model there can think; before the
Llama profile said otherwise, a Llama request on that wire carried `chat_template_kwargs: {enable_thinking: true}`.
The replies are constructed (ScriptedOpenAI: vLLM-shaped SSE; ScriptedOllama: Ollama's NDJSON).
"""

from __future__ import annotations

import pytest

from castling import Agent, Llama, Qwen
from castling.errors import CapabilityMissing
from castling.scripted_openai import ScriptedOpenAI
from castling.testing import ScriptedOllama
from tests.agents import plan_script
from tests.conftest import weather

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"


def test_llama_on_the_openai_wire_sends_no_thinking_flag_with_tools():
    server = ScriptedOpenAI(LLAMA)
    server.add_reply(tool_calls=[("weather", {"city": "Lyon"})])
    server.add_reply("Rain in Lyon.")
    backbone = Llama(LLAMA, server="openai", transport=server.transport)
    assert Agent(backbone, tools=[weather], strategy="tools").run("Weather in Lyon?").answer == "Rain in Lyon."
    assert len(server.requests) == 2
    for body in server.requests:
        assert "chat_template_kwargs" not in body and "reasoning_effort" not in body


def test_llama_on_the_openai_wire_sends_no_thinking_flag_when_planning():
    server = ScriptedOpenAI(LLAMA)
    plan_script.script_paris_lyon(server)
    backbone = Llama(LLAMA, server="openai", transport=server.transport)
    Agent(backbone, tools=[plan_script.weather]).run("Compare the weather in Paris and Lyon.")
    assert server.requests and all("chat_template_kwargs" not in body for body in server.requests)


def test_llama_on_ollama_sends_no_think_even_when_the_server_lists_thinking():
    server = ScriptedOllama("llama3.1:8b", capabilities=("completion", "tools", "thinking"))
    server.add_reply("Hello!")
    Agent(Llama("llama3.1:8b", transport=server.transport), tools=[weather], strategy="tools").run("hi")
    assert "think" not in server.requests[0]


def test_asking_llama_to_think_says_what_to_do():
    server = ScriptedOpenAI(LLAMA)
    backbone = Llama(LLAMA, server="openai", transport=server.transport, think=True)
    with pytest.raises(CapabilityMissing, match="does not support thinking: create the backbone with think=False"):
        backbone.chat([{"role": "user", "content": "hi"}])
    assert server.requests == []


def test_qwen_on_the_openai_wire_still_asks_for_thinking():
    server = ScriptedOpenAI("Qwen/Qwen3-8B")
    server.add_reply("Hello!")
    Agent(Qwen("Qwen/Qwen3-8B", server="openai", transport=server.transport)).run("hi")
    assert server.requests[0]["chat_template_kwargs"] == {"enable_thinking": True}
