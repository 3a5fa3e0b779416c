"""Constructed OpenAI-wire traffic for the scenario tests (labelled `constructed`: no real server produced it).

The shapes follow vLLM's OpenAI-compatible server (`chat.completion.chunk` events, `reasoning_content` deltas,
tool-call fragments keyed by `index` with the id and name in the first fragment, a final usage chunk with empty
`choices` when `stream_options.include_usage` is set, then `data: [DONE]`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx

from castling.scenarios.format import (
    AgentConfig,
    Expectation,
    ModelTurn,
    Recording,
    Scenario,
    ServerExchange,
    WireRequest,
    WireResponse,
)
from castling.scenarios.recorder import summarise

MODEL = "Qwen/Qwen3-8B"
HOST = "http://gpu1:8000/v1"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Current weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
SYSTEM = {"role": "system", "content": "Use the tools. Be brief."}
USER = {"role": "user", "content": "Weather in Paris and Rome?"}
STREAM = {"stream": True, "stream_options": {"include_usage": True}}


def _chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    head: dict[str, Any] = {"id": "chatcmpl-7f3a", "object": "chat.completion.chunk", "created": 1764700000}
    head["model"] = MODEL
    if delta is None:
        return {**head, "choices": [], **extra}
    return {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra}


def _fragment(index: int, arguments: str, *, ident: str = "", name: str = "") -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if ident:
        call.update(id=ident, type="function")
        call["function"] = {"name": name, "arguments": arguments}
    return {"tool_calls": [call]}


# two parallel calls, their fragments interleaved, an argument split mid-token
CALLS_CHUNKS = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"reasoning_content": "Two cities: "}),
    _chunk({"reasoning_content": "call weather twice."}),
    _chunk(_fragment(0, "", ident="chatcmpl-tool-a1", name="weather")),
    _chunk(_fragment(0, '{"city": "Pa')),
    _chunk(_fragment(1, "", ident="chatcmpl-tool-b2", name="weather")),
    _chunk(_fragment(1, '{"city": "Rome"}')),
    _chunk(_fragment(0, 'ris"}')),
    _chunk({}, "tool_calls"),
    _chunk(None, usage={"prompt_tokens": 120, "completion_tokens": 31, "total_tokens": 151}),
]
ANSWER_CHUNKS = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Paris: 18 °C, sunny. "}),
    _chunk({"content": "Rome: 21 °C, clear."}),
    _chunk({}, "stop"),
    _chunk(None, usage={"prompt_tokens": 190, "completion_tokens": 14, "total_tokens": 204}),
]
ASSISTANT_CALLS = {
    "role": "assistant",
    "content": "",
    "tool_calls": [
        {"id": f"chatcmpl-tool-{ident}", "type": "function", "function": {"name": "weather", "arguments": arguments}}
        for ident, arguments in (("a1", '{"city": "Paris"}'), ("b2", '{"city": "Rome"}'))
    ],
}
RESULTS = [
    {"role": "tool", "tool_call_id": "chatcmpl-tool-a1", "content": "18 °C, sunny"},
    {"role": "tool", "tool_call_id": "chatcmpl-tool-b2", "content": "21 °C, clear"},
]
MODELS_BODY = {
    "object": "list",
    "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "vllm", "max_model_len": 32768}],
}


def first_request() -> dict[str, Any]:
    return {"model": MODEL, "messages": [SYSTEM, USER], "tools": TOOLS, **STREAM}


def second_request() -> dict[str, Any]:
    messages = [SYSTEM, USER, ASSISTANT_CALLS, *RESULTS]
    return {"model": MODEL, "messages": copy.deepcopy(messages), "tools": TOOLS, **STREAM}


def sse_bytes(chunks: list[dict[str, Any]], *, done: bool = True) -> bytes:
    """The body a server streams: `data: {json}` and a blank line per chunk, then `data: [DONE]`."""
    events = [b"data: " + json.dumps(c, ensure_ascii=False).encode() + b"\n\n" for c in chunks]
    return b"".join(events) + (b"data: [DONE]\n\n" if done else b"")


def scripted_vllm(replies: list[list[dict[str, Any]]]) -> httpx.MockTransport:
    """A stand-in vLLM: `/v1/models`, and each chat call answered with the next scripted SSE stream."""
    queue = iter(replies)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json=MODELS_BODY)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse_bytes(next(queue)))

    return httpx.MockTransport(handle)


def weather_turn(index: int, body: dict[str, Any], chunks: list[dict[str, Any]]) -> ModelTurn:
    return ModelTurn(
        turn=index,
        request=WireRequest(path="/v1/chat/completions", body=body),
        response=WireResponse(content_type="text/event-stream", chunks=chunks),
        summary=summarise(chunks),
    )


def openai_weather_scenario(source: str = "constructed") -> Scenario:
    """Two parallel weather calls, then the answer, on the OpenAI wire (a `runner: wire` scenario)."""
    return Scenario(
        id="openai-weather",
        task="Weather in Paris and Rome?",
        description="Constructed OpenAI-wire traffic in vLLM's shape (hand-written, not from a real server).",
        tags=["openai", "constructed"],
        agent=AgentConfig(runner="wire", server="openai", backbone="qwen", model=MODEL),
        recording=Recording(source=source),  # type: ignore[arg-type]
        server=[ServerExchange(path="/v1/models", body=MODELS_BODY)],
        model_turns=[weather_turn(0, first_request(), CALLS_CHUNKS), weather_turn(1, second_request(), ANSWER_CHUNKS)],
        expectations=[
            Expectation.model_validate({"final_answer": {"contains": "Rome: 21 °C"}}),
            Expectation.model_validate({"tool_called": {"name": "weather", "args": {"city": "Rome"}}}),
        ],
    )
