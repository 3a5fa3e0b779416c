"""A scripted OpenAI-compatible server (vLLM-shaped) for tests, served through an injected httpx transport.

It answers `GET …/models` and `POST …/chat/completions`, streaming SSE the way vLLM does, in small pieces: text
in a few characters per chunk, tool-call arguments split mid-token, parallel calls with their fragments
interleaved, usage in a last chunk without choices, then `data: [DONE]`; the bytes themselves arrive in pieces
that cut SSE lines. It records every request body and fails loudly when the script runs out.

    server = ScriptedOpenAI("Qwen/Qwen3-8B")
    server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    server.add_reply("It is sunny in Paris.")
    agent = Agent(Qwen("Qwen/Qwen3-8B", server="openai", transport=server.transport), tools=[weather])
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from castling.testing import ScriptExhausted

Event = Mapping[str, Any] | str
"""One SSE data payload: a JSON object, or raw text such as `[DONE]`."""


@dataclass
class ScriptedCompletion:
    """One scripted `/chat/completions` answer: SSE events, a whole JSON completion, or an HTTP error."""

    events: list[Event] = field(default_factory=list)
    completion: Mapping[str, Any] | None = None
    status: int = 200
    error_body: Any = None


class ScriptedOpenAI:
    """A fake OpenAI-compatible server with a queue of replies."""

    def __init__(
        self,
        model: str = "Qwen/Qwen3-8B",
        *,
        max_model_len: int | None = 40960,
        served: Sequence[str] | None = None,
        wire_chunk: int = 61,
    ) -> None:
        self.model = model
        self.max_model_len = max_model_len
        self.served = list(served) if served is not None else [model]
        self.wire_chunk = wire_chunk
        """Bytes per piece of the response body (small, so SSE lines arrive cut)."""
        self.replies: list[ScriptedCompletion] = []
        self.requests: list[dict[str, Any]] = []
        """Bodies of the `/chat/completions` requests received, in order."""
        self.paths: list[str] = []
        self.transport = httpx.MockTransport(self.handle)

    # -- scripting -------------------------------------------------------------------------------------------
    def add_reply(
        self,
        text: str = "",
        *,
        thinking: str = "",
        tool_calls: Sequence[tuple[str, Mapping[str, Any]]] = (),
        finish_reason: str | None = None,
        chunk_size: int = 5,
        prompt_tokens: int = 20,
        completion_tokens: int = 10,
        reasoning_field: str = "reasoning_content",
    ) -> ScriptedCompletion:
        """Queue a reply streamed as vLLM does (thinking in `reasoning_field`, arguments split mid-token)."""
        events: list[Event] = [_chunk(self.model, {"role": "assistant", "content": ""})]
        events += [_chunk(self.model, {reasoning_field: piece}) for piece in _pieces(thinking, chunk_size)]
        events += [_chunk(self.model, {"content": piece}) for piece in _pieces(text, chunk_size)]
        events += [_chunk(self.model, {"tool_calls": [f]}) for f in _call_fragments(tool_calls, chunk_size)]
        reason = finish_reason or ("tool_calls" if tool_calls else "stop")
        events.append(_chunk(self.model, {}, finish_reason=reason))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
        usage["total_tokens"] = prompt_tokens + completion_tokens
        events.append({**_chunk(self.model, {}), "choices": [], "usage": usage})
        events.append("[DONE]")
        return self.add_events(events)

    def add_events(self, events: Sequence[Event]) -> ScriptedCompletion:
        """Queue a reply given as the exact SSE data payloads to stream (add `"[DONE]"` yourself)."""
        reply = ScriptedCompletion(events=list(events))
        self.replies.append(reply)
        return reply

    def add_completion(self, completion: Mapping[str, Any]) -> ScriptedCompletion:
        """Queue a whole JSON completion, as a server that does not stream answers."""
        reply = ScriptedCompletion(completion=completion)
        self.replies.append(reply)
        return reply

    def add_error(self, status: int, message: str, *, body: Any = None) -> ScriptedCompletion:
        """Queue an HTTP error: vLLM's `{"error": {"message", "type", "code"}}`, or `body` exactly."""
        vllm_body = {"error": {"message": message, "type": "BadRequestError", "code": status}}
        error_body = body if body is not None else vllm_body
        reply = ScriptedCompletion(status=status, error_body=error_body)
        self.replies.append(reply)
        return reply

    def add_stream_error(self, message: str, *, text_before: str = "", chunk_size: int = 5) -> ScriptedCompletion:
        """Queue a stream that sends `text_before`, then an error event, as vLLM does when generation fails."""
        events: list[Event] = [_chunk(self.model, {"content": piece}) for piece in _pieces(text_before, chunk_size)]
        events += [{"error": {"message": message, "type": "InternalServerError", "code": 500}}, "[DONE]"]
        return self.add_events(events)

    @property
    def pending(self) -> int:
        """Replies not yet served."""
        return len(self.replies)

    # -- serving ---------------------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """The httpx handler: route by the end of the path (the host's `/v1` prefix is whatever it is)."""
        path = request.url.path
        self.paths.append(path)
        if path.endswith("/models") and request.method == "GET":
            return httpx.Response(200, json={"object": "list", "data": [self._model(name) for name in self.served]})
        if path.endswith("/chat/completions") and request.method == "POST":
            return self._chat(json.loads(request.content))
        return httpx.Response(404, json={"detail": "Not Found"})

    def _model(self, name: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": name, "object": "model", "created": 0, "owned_by": "vllm", "root": name}
        if self.max_model_len:
            entry["max_model_len"] = self.max_model_len
        return entry

    def _chat(self, body: dict[str, Any]) -> httpx.Response:
        self.requests.append(body)
        if not self.replies:
            raise ScriptExhausted(f"the agent made model call #{len(self.requests)} but the script had no reply left")
        reply = self.replies.pop(0)
        if reply.error_body is not None:
            return httpx.Response(reply.status, json=reply.error_body)
        if reply.completion is not None:
            return httpx.Response(200, json=dict(reply.completion))
        data = b"".join(_sse(event) for event in reply.events)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_Bytes(data, self.wire_chunk))


class _Bytes(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, data: bytes, size: int) -> None:
        self.data = data
        self.size = size

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), self.size):
            yield self.data[start : start + self.size]

    async def __aiter__(self) -> Any:
        for start in range(0, len(self.data), self.size):
            yield self.data[start : start + self.size]


def _sse(event: Event) -> bytes:
    payload = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
    return f"data: {payload}\n\n".encode()


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] if text else []


def _chunk(model: str, delta: Mapping[str, Any], *, finish_reason: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": dict(delta), "logprobs": None, "finish_reason": finish_reason}
    return {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": model} | {
        "choices": [choice]
    }


def _call_fragments(calls: Sequence[tuple[str, Mapping[str, Any]]], size: int) -> list[dict[str, Any]]:
    """Each call's first fragment (id, name, no arguments), then argument pieces, the calls taking turns."""
    heads = [
        {"index": i, "id": f"chatcmpl-tool-{i:04d}", "type": "function", "function": {"name": name, "arguments": ""}}
        for i, (name, _) in enumerate(calls)
    ]
    pieces = [_pieces(json.dumps(dict(arguments), ensure_ascii=False), size) for _, arguments in calls]
    fragments = list(heads)
    for step in range(max((len(p) for p in pieces), default=0)):
        for index, call_pieces in enumerate(pieces):
            if step < len(call_pieces):
                fragments.append({"index": index, "function": {"arguments": call_pieces[step]}})
    return fragments
