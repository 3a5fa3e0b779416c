"""The OpenAI-compatible wire as scenarios store and serve it: SSE chunks, completions, `/v1/models`.

vLLM, SGLang, llama.cpp's server and LM Studio stream `/v1/chat/completions` as server-sent events: one
`data: {json}` event per chunk, a blank line after each, and `data: [DONE]` at the end. A scenario keeps the
chunks as parsed JSON (readable, like Ollama's NDJSON lines); the `[DONE]` line is implied for every stream that
was not cut short. A non-streamed answer is one `chat.completion` JSON body. Replay turns either form into the
other when the client asks for the one that was not recorded (`stream` is not part of request matching).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from castling.scenarios.format import Scenario, TurnSummary, WireResponse

SSE_CONTENT_TYPE = "text/event-stream"
CHAT_COMPLETIONS = "/chat/completions"
REPLAY_OPENAI_HOST = "http://127.0.0.1:8000"
"""Where a replayed OpenAI-wire agent thinks its server is (nothing listens: the replay transport answers)."""
DONE = "[DONE]"
_REASONING_KEYS = ("reasoning_content", "reasoning")
"""Where servers put thinking: vLLM's `reasoning_content` (older) or `reasoning` (newer, also Ollama's /v1)."""


def chat_api(path: str) -> str | None:
    """Which API a model-call path speaks: `ollama` (`/api/chat`), `openai` (`…/chat/completions`), or None."""
    if path.endswith("/api/chat"):
        return "ollama"
    if path.endswith(CHAT_COMPLETIONS):
        return "openai"
    return None


def api_prefix(scenario: Scenario) -> str:
    """Where the recorded OpenAI-compatible API lives on its host: `/v1` (the recorded path minus the route)."""
    recorded = next((t.request.path for t in scenario.model_turns if t.request.path.endswith(CHAT_COMPLETIONS)), "")
    return recorded.removesuffix(CHAT_COMPLETIONS) if recorded else "/v1"


def is_models_path(path: str) -> bool:
    """`/v1/models` (or `…/models/<id>`): the OpenAI-compatible model listing."""
    return path.endswith("/models") or "/models/" in path


# -- reading -----------------------------------------------------------------------------------------------------
def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    """The JSON chunks of an SSE body, in order (`[DONE]` and comments left out).

    Read line by line as `backbones/sse.py` reads it, so what a client accepts is what gets recorded: several
    `data:` lines of one event are joined, a one-line event needs no blank line after it, and an `event: error`
    whose data is a bare message is kept as `{"error": {"message": ...}}`. A torn last event (a stream cut
    mid-event, stored `interrupted`) is left out.
    """
    events = _Events()
    for line in raw.decode("utf-8", "replace").split("\n"):
        events.line(line.rstrip("\r"))
    events.flush()
    return events.chunks


class _Events:
    """SSE lines → chunks."""

    def __init__(self) -> None:
        self.chunks: list[dict[str, Any]] = []
        self.data: list[str] = []
        self.name = ""

    def line(self, line: str) -> None:
        if not line:
            self.flush()
            return
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self.name = value.strip()
        elif field == "data" and (self.data or not self._take(value)):
            self.data.append(value)  # more data lines may follow (or the event is torn)

    def flush(self) -> None:
        if self.data:
            self._take("\n".join(self.data))
        self.data, self.name = [], ""

    def _take(self, text: str) -> bool:
        """Keep the chunk `text` holds if it is a whole one (or `[DONE]`); False if it is not (yet)."""
        if text.strip() == DONE:
            self.name = ""
            return True
        try:
            value = json.loads(text)
        except ValueError:
            if self.name != "error":
                return False
            value = {"error": {"message": text}}
        self.chunks.append(value if isinstance(value, dict) else {"value": value})
        self.name = ""
        return True


def completion_of(chunks: list[Any]) -> dict[str, Any]:
    """One `chat.completion` object from streamed chunks, or the recorded completion itself."""
    if len(chunks) == 1 and isinstance(chunks[0], dict) and _has_message(chunks[0]):
        return chunks[0]
    return merge_completion([c for c in chunks if isinstance(c, dict)])


def merge_completion(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The non-streamed form of a streamed reply: deltas joined, tool calls assembled by `index`."""
    head = next((c for c in chunks if "choices" in c), {})
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    calls: dict[int, dict[str, Any]] = {}
    finish: str | None = None
    usage: Any = None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue  # castling asks for one choice (n=1)
            _add_delta(message, calls, choice.get("delta") or {})
            finish = choice.get("finish_reason") or finish
    if calls:
        message["tool_calls"] = [calls[index] for index in sorted(calls)]
    merged: dict[str, Any] = {
        "id": head.get("id", ""),
        "object": "chat.completion",
        "created": head.get("created", 0),
        "model": head.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    if usage is not None:
        merged["usage"] = usage
    return merged


def _add_delta(message: dict[str, Any], calls: dict[int, dict[str, Any]], delta: dict[str, Any]) -> None:
    message["content"] += delta.get("content") or ""
    for key in _REASONING_KEYS:
        if delta.get(key):
            message[key] = message.get(key, "") + delta[key]
    for fragment in delta.get("tool_calls") or []:
        slot = calls.setdefault(
            int(fragment.get("index", len(calls))),
            {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
        )
        slot["id"] = slot["id"] or fragment.get("id") or ""  # the id comes with the first fragment only
        function = fragment.get("function") or {}
        slot["function"]["name"] += function.get("name") or ""
        slot["function"]["arguments"] += function.get("arguments") or ""


def completion_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A recorded `chat.completion` as the chunks a server would have streamed (for a streaming client)."""
    choice = (body.get("choices") or [{}])[0]
    message = dict(choice.get("message") or {})
    delta: dict[str, Any] = {"role": "assistant", "content": message.get("content") or ""}
    delta.update({key: message[key] for key in _REASONING_KEYS if message.get(key)})
    if message.get("tool_calls"):
        delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
    head = {"id": body.get("id", ""), "object": "chat.completion.chunk", "created": body.get("created", 0)}
    head["model"] = body.get("model", "")
    chunks = [
        {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason")}]},
    ]
    if body.get("usage"):
        chunks.append({**head, "choices": [], "usage": body["usage"]})
    return chunks


def summarise_openai(chunks: list[Any]) -> TurnSummary:
    """Content, thinking, tool calls, finish reason and usage of one OpenAI-wire reply."""
    completion = completion_of(chunks)
    choice = (completion.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    usage = completion.get("usage") or {}
    return TurnSummary(
        content=message.get("content") or "",
        thinking=next((message[k] for k in _REASONING_KEYS if message.get(k)), ""),
        tool_calls=[
            {"name": (call.get("function") or {}).get("name"), "arguments": _arguments(call)}
            for call in message.get("tool_calls") or []
        ],
        done_reason=choice.get("finish_reason") or "",
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )


def is_openai_reply(chunks: list[Any]) -> bool:
    """Whether recorded chunks (or a body) are OpenAI-shaped (`choices`) rather than Ollama's (`message`)."""
    return any(isinstance(c, dict) and "choices" in c for c in chunks)


def _arguments(call: dict[str, Any]) -> Any:
    text = (call.get("function") or {}).get("arguments")
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text  # kept as sent: an unreadable call is worth seeing as it was


def _has_message(body: dict[str, Any]) -> bool:
    choices = body.get("choices")
    return isinstance(choices, list) and bool(choices) and isinstance(choices[0], dict) and "message" in choices[0]


# -- serving -----------------------------------------------------------------------------------------------------
def openai_turn_response(response: WireResponse, *, streamed: bool) -> httpx.Response:
    """The recorded answer as SSE or as one completion, whichever the client asked for."""
    if response.chunks is None:
        if streamed and response.status == 200 and isinstance(response.body, dict) and _has_message(response.body):
            return _sse_response(completion_chunks(response.body), done=True)
        return httpx.Response(response.status, json=response.body)
    if streamed:
        return _sse_response(response.chunks, done=not response.interrupted, status=response.status)
    failed = next((c for c in response.chunks if "error" in c), None)
    if failed is not None:  # a stream that failed mid-way: the non-streamed client gets the error
        return httpx.Response(500, json=failed)
    return httpx.Response(response.status, json=merge_completion(response.chunks))


def _sse_response(chunks: list[dict[str, Any]], *, done: bool, status: int = 200) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": SSE_CONTENT_TYPE}, stream=SseStream(chunks, done=done))


class SseStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Recorded chunks as SSE events (`data: {json}` and a blank line), then `data: [DONE]` unless cut short."""

    def __init__(self, chunks: list[dict[str, Any]], *, done: bool = True) -> None:
        self.events = [b"data: " + json.dumps(c, ensure_ascii=False).encode() + b"\n\n" for c in chunks]
        if done:
            self.events.append(b"data: " + DONE.encode() + b"\n\n")

    def __iter__(self) -> Iterator[bytes]:
        yield from self.events

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in self.events:
            yield event


def models_response(models: list[str], path: str) -> httpx.Response:
    """`GET /v1/models` (or `/v1/models/<id>`) derived from the models the scenario talked to."""
    entries = [{"id": m, "object": "model", "created": 0, "owned_by": "castling-replay"} for m in models]
    if path.endswith("/models"):
        return httpx.Response(200, json={"object": "list", "data": entries})
    wanted = path.rsplit("/models/", 1)[1]
    found = next((e for e in entries if e["id"] == wanted), None)
    if found is None:
        return error_response(404, f"The model `{wanted}` does not exist (replaying: {', '.join(models)}).")
    return httpx.Response(200, json=found)


def error_response(status: int, message: str) -> httpx.Response:
    """An error in the OpenAI shape (`{"error": {"message", "type", "code"}}`) that OpenAI clients read."""
    kinds = {400: "BadRequestError", 403: "PermissionDeniedError", 404: "NotFoundError", 405: "MethodNotAllowedError"}
    kind = kinds.get(status, "InternalError")
    return httpx.Response(status, json={"error": {"message": message, "type": kind, "param": None, "code": status}})
