"""Each way talking to Ollama goes wrong gives a castling error that says what to do."""

from __future__ import annotations

import socket

import httpx
import pytest

from castling import (
    Agent,
    CapabilityMissing,
    ModelNotFound,
    ModelStreamError,
    ModelTimeout,
    OllamaUnreachable,
    Qwen,
    ThinkingBudgetExhausted,
)
from castling.testing import ScriptedOllama
from tests.conftest import weather


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_names_the_host_and_ollama_serve():
    host = f"http://127.0.0.1:{closed_port()}"
    agent = Agent(Qwen("qwen3:8b", host=host), tools=[weather])
    with pytest.raises(OllamaUnreachable) as caught:
        agent.run("hi")
    assert host in str(caught.value)
    assert "ollama serve" in str(caught.value)


async def test_unreachable_server_async():
    agent = Agent(Qwen("qwen3:8b", host=f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(OllamaUnreachable, match="ollama serve"):
        await agent.arun("hi")


def test_model_not_pulled_says_pull_and_lists_installed():
    server = ScriptedOllama("qwen3:8b", installed=["llama3.2:3b", "qwen3:0.6b"])
    agent = Agent(Qwen("qwen3:8b", transport=server.transport))
    with pytest.raises(ModelNotFound) as caught:
        agent.run("hi")
    message = str(caught.value)
    assert "ollama pull qwen3:8b" in message
    assert "llama3.2:3b, qwen3:0.6b" in message
    assert caught.value.installed == ("llama3.2:3b", "qwen3:0.6b")


def test_model_without_tools_capability_is_refused_before_chatting():
    server = ScriptedOllama("gemma3:4b", capabilities=["completion", "vision"])
    agent = Agent(Qwen("gemma3:4b", transport=server.transport), tools=[weather])
    with pytest.raises(CapabilityMissing) as caught:
        agent.run("hi")
    assert "does not support tools" in str(caught.value)
    assert "strategy='plan'" in str(caught.value)
    assert server.requests == []


def test_server_400_for_tools_is_translated():
    """The server's own refusal (as ollama#14795 shows it), when /api/show claimed tools."""
    server = ScriptedOllama("gemma3:4b")
    server.add_error(400, "registry.ollama.ai/library/gemma3:4b does not support tools")
    agent = Agent(Qwen("gemma3:4b", transport=server.transport), tools=[weather])
    with pytest.raises(CapabilityMissing, match="qwen3:8b or llama3.1:8b") as caught:
        agent.run("hi")
    assert caught.value.capability == "tools"


def test_error_line_mid_stream_keeps_the_partial_text():
    server = ScriptedOllama()
    server.add_lines(
        [
            {"message": {"role": "assistant", "content": "The answer "}, "done": False},
            {"message": {"role": "assistant", "content": "is fo"}, "done": False},
            {"error": "an error was encountered while running the model"},
        ]
    )
    agent = Agent(Qwen("qwen3:8b", transport=server.transport))
    with pytest.raises(ModelStreamError) as caught:
        agent.run("hi")
    assert caught.value.partial_text == "The answer is fo"
    assert "an error was encountered while running the model" in str(caught.value)


def test_request_timeout():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/show":
            return httpx.Response(200, json={"capabilities": ["completion", "tools"], "model_info": {}})
        raise httpx.ReadTimeout("timed out", request=request)

    agent = Agent(Qwen("qwen3:8b", transport=httpx.MockTransport(handler), timeout=5))
    with pytest.raises(ModelTimeout, match="did not answer in time"):
        agent.run("hi")


def test_thinking_that_eats_the_budget_is_a_clear_error():
    server = ScriptedOllama()
    server.add_reply(thinking="Let me think about this very carefully " * 5, done_reason="length")
    agent = Agent(Qwen("qwen3:8b", transport=server.transport, options={"num_predict": 64}))
    with pytest.raises(ThinkingBudgetExhausted, match="num_predict=64") as caught:
        agent.run("hard question")
    assert caught.value.thinking.startswith("Let me think")


def test_think_on_a_model_without_thinking_is_refused_clearly():
    server = ScriptedOllama("llama3.2:3b", capabilities=["completion", "tools"])
    agent = Agent(Qwen("llama3.2:3b", transport=server.transport, think=True))
    with pytest.raises(CapabilityMissing, match="think=False"):
        agent.run("hi")


def test_errors_leave_the_conversation_intact(make_agent, server):
    agent = make_agent()
    server.add_reply("first answer")
    agent.run("first", thread_id="t")
    server.add_lines([{"message": {"role": "assistant", "content": "par"}, "done": False}, {"error": "boom"}])
    with pytest.raises(ModelStreamError):
        agent.run("second", thread_id="t")
    server.add_reply("third answer")
    result = agent.run("third", thread_id="t")
    assert result.answer == "third answer"
    assert [m.text for m in result.messages if m.type == "ai"] == ["first answer", "third answer"]
