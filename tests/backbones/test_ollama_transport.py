"""The Ollama transport on recorded traffic: real llama3/llama3.1 captures and constructed NDJSON in the
documented wire shape."""

from __future__ import annotations

import httpx
import pytest
import yaml

from castling.backbones.ollama import OllamaTransport, resolve_host
from castling.backbones.wire import ChatRequest
from castling.testing import ScriptedOllama
from tests.conftest import RECORDED, recorded_json


def openllmetry_stream_lines() -> list[dict]:
    """The real llama3 /api/chat NDJSON stream from the openllmetry cassette."""
    import json

    cassette = yaml.safe_load((RECORDED / "10_openllmetry_llama3_apichat_ndjson_stream.yaml").read_text())
    body = cassette["interactions"][0]["response"]["body"]["string"]
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_streamed_reply_is_accumulated_and_deltas_arrive_in_order():
    lines = openllmetry_stream_lines()
    server = ScriptedOllama("llama3", capabilities=["completion"])
    server.add_lines(lines)
    deltas: list[str] = []
    turn = OllamaTransport(transport=server.transport).chat(
        ChatRequest("llama3", [{"role": "user", "content": "joke"}]), lambda kind, text: deltas.append(text)
    )
    expected = "".join(line["message"]["content"] for line in lines)
    assert turn.content == expected
    assert turn.content.startswith("Why did the OpenTelemetry agent go to therapy?")
    assert "".join(deltas) == expected
    assert len(deltas) == sum(1 for line in lines if line["message"]["content"])
    final = lines[-1]
    assert turn.done_reason == final["done_reason"]
    assert turn.usage.prompt_tokens == final["prompt_eval_count"]
    assert turn.usage.completion_tokens == final["eval_count"]
    assert turn.usage.total_seconds == pytest.approx(final["total_duration"] / 1e9)


async def test_async_stream_of_real_llama31_reply_cut_by_length():
    exchange = recorded_json("11_dotnet_extensions_llama3.1_apichat_exchanges.json")["exchanges"][1]
    server = ScriptedOllama("llama3.1", capabilities=["completion", "tools"])
    server.add_lines(exchange["response_ndjson"])
    turn = await OllamaTransport(transport=server.transport).achat(
        ChatRequest("llama3.1", exchange["request"]["messages"])
    )
    assert turn.done_reason == "length"
    assert turn.content == "".join(c["message"]["content"] for c in exchange["response_ndjson"])
    assert turn.usage.completion_tokens == exchange["response_ndjson"][-1]["eval_count"]


def test_non_streamed_real_tool_call_from_llama31():
    exchange = recorded_json("11_dotnet_extensions_llama3.1_apichat_exchanges.json")["exchanges"][3]
    response = exchange["response"]

    def handler(request: httpx.Request) -> httpx.Response:
        assert b'"stream":false' in request.content.replace(b" ", b"")
        return httpx.Response(200, json=response)

    turn = OllamaTransport(transport=httpx.MockTransport(handler)).chat_once(ChatRequest("llama3.1", []))
    call = response["message"]["tool_calls"][0]["function"]
    assert [(c.name, dict(c.arguments)) for c in turn.tool_calls] == [(call["name"], call["arguments"])]


def test_two_calls_in_one_chunk_without_ids_are_both_kept():
    """Constructed after the real Ollama 0.34.1 capture: second call has no id, both index 0."""
    server = ScriptedOllama("qwen3.5:9b")
    server.add_lines(
        [
            {"model": "qwen3.5:9b", "message": {"role": "assistant", "content": "", "thinking": "The"}, "done": False},
            {
                "model": "qwen3.5:9b",
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "call_zy4pkytc",
                            "function": {"index": 0, "name": "weather", "arguments": {"city": "Paris"}},
                        },
                        {"function": {"index": 0, "name": "weather", "arguments": {"city": "Lyon"}}},
                    ],
                },
                "done": False,
            },
            {
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 277,
                "eval_count": 82,
                "message": {"role": "assistant", "content": ""},
            },
        ]
    )
    turn = OllamaTransport(transport=server.transport).chat(ChatRequest("qwen3.5:9b", []))
    assert [c.arguments["city"] for c in turn.tool_calls] == ["Paris", "Lyon"]
    assert turn.thinking == "The"


def test_show_reads_capabilities_and_context_length_once_per_model():
    server = ScriptedOllama("qwen3:0.6b", capabilities=["completion", "tools", "thinking"], context_length=40960)
    transport = OllamaTransport(transport=server.transport)
    info = transport.show("qwen3:0.6b")
    assert info.supports_tools and info.supports_thinking
    assert info.context_length == 40960
    assert transport.show("qwen3:0.6b") is info
    assert server.paths.count("/api/show") == 1


def test_host_comes_from_argument_then_environment(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11434")
    assert resolve_host(None) == "http://gpu-box:11434"
    assert resolve_host("http://other:1/") == "http://other:1"
    monkeypatch.delenv("OLLAMA_HOST")
    assert resolve_host(None) == "http://127.0.0.1:11434"


def test_list_models():
    server = ScriptedOllama("qwen3:8b", installed=["qwen3:8b", "llama3.2:3b"])
    assert OllamaTransport(transport=server.transport).list_models() == ["llama3.2:3b", "qwen3:8b"]


def test_calls_spread_over_several_chunks_are_accumulated_in_arrival_order():
    """Constructed per docs/capabilities/tool-calling.mdx (streaming): each call whole, in its own chunk."""
    server = ScriptedOllama("qwen3:8b")
    call = {"function": {"index": 0, "name": "weather", "arguments": {"city": "Paris"}}}
    other = {"function": {"index": 0, "name": "weather", "arguments": {"city": "Lyon"}}}
    server.add_lines(
        [
            {"message": {"role": "assistant", "content": "", "tool_calls": [call]}, "done": False},
            {"message": {"role": "assistant", "content": "", "tool_calls": [other]}, "done": False},
            {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"},
        ]
    )
    turn = OllamaTransport(transport=server.transport).chat(ChatRequest("qwen3:8b", []))
    assert [c.arguments["city"] for c in turn.tool_calls] == ["Paris", "Lyon"]
    assert turn.done_reason == "stop"


def test_vision_capability_is_read():
    server = ScriptedOllama("llama3.2-vision", capabilities=["completion", "vision"])
    info = OllamaTransport(transport=server.transport).show("llama3.2-vision")
    assert info.supports_vision
    assert not info.supports_tools
