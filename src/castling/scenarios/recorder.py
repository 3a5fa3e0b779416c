"""Record at the wire: an httpx transport that tees each chunk to the caller and to the recording.

Nothing is buffered: every chunk reaches the caller as it arrives (recording must not break streaming), and a
copy is kept. A stream that is cut short is still stored, marked `interrupted`. Both model wires are recorded:
Ollama's `/api/chat` (NDJSON lines) and the OpenAI-compatible `…/chat/completions` (SSE events), each chunk kept as
parsed JSON; every other request of the model transport (`/api/show`, `/v1/models`, …) is a discovery exchange,
except a pool's `/api/ps` routing probes (`ROUTING_PROBES`), which pass through unrecorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from castling.scenarios.canonical import fingerprint
from castling.scenarios.format import (
    INLINE_LIMIT,
    REPLAY_HEADER,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    McpTraffic,
    ModelTurn,
    ServerExchange,
    TurnSummary,
    WireRequest,
    WireResponse,
)
from castling.scenarios.openai_wire import chat_api, is_openai_reply, parse_sse, summarise_openai

AnyTransport = httpx.BaseTransport | httpx.AsyncBaseTransport
_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-api-key", "api-key")
_DROPPED_HEADERS = ("user-agent", "accept-encoding", "connection", "host", "content-length", "accept")
_KEPT_RESPONSE_HEADERS = ("content-type", "location", "content-language")
ROUTING_PROBES = frozenset({"/api/ps"})
"""Passed through, not recorded: a pool asks each host which models are loaded (at most every 5 s per host) only
to order its hosts. They are not model traffic: how many there are depends on timing and on the number of hosts,
and they list whatever else the hosts have loaded. A replay answers them from the scenario's models."""


@dataclass
class Capture:
    """Everything recorded during one run (thread-safe appends)."""

    model_turns: list[ModelTurn | None] = field(default_factory=list)
    server: list[ServerExchange] = field(default_factory=list)
    tool_http: list[HttpExchange] = field(default_factory=list)
    blobs: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """Bodies too large or binary to inline, by exchange id: (bytes, file suffix)."""
    redactions: set[str] = field(default_factory=set)
    mcp: list[McpTraffic] = field(default_factory=list)
    """MCP servers' tool lists and calls, one entry per server (`scenarios/mcp_traffic.py` fills it)."""
    served: str = ""
    """The file `castling serve` replayed, when the model server was one (its `x-castling-replay` header):
    a recording of a recording is `constructed`, never `live`."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def turns(self) -> list[ModelTurn]:
        return [t for t in self.model_turns if t is not None]


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps a real transport; `kind="ollama"` records model traffic (either API), `kind="http"` a tool's traffic."""

    def __init__(
        self, inner: AnyTransport, capture: Capture, *, kind: Literal["ollama", "http"], tool: str = ""
    ) -> None:
        self.inner = inner
        self.capture = capture
        self.kind = kind
        self.tool = tool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.inner, httpx.BaseTransport):
            raise TypeError("the recorded transport is async-only; use an async client")
        on_done = self._start(request)
        response = self.inner.handle_request(request)
        return _wrap(self._note_served(response), on_done)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.inner, httpx.AsyncBaseTransport):
            raise TypeError("the recorded transport is sync-only; use a sync client")
        on_done = self._start(request)
        response = await self.inner.handle_async_request(request)
        return _wrap(self._note_served(response), on_done)

    def close(self) -> None:
        if isinstance(self.inner, httpx.BaseTransport):
            self.inner.close()

    async def aclose(self) -> None:
        if isinstance(self.inner, httpx.AsyncBaseTransport):
            await self.inner.aclose()

    # -- bookkeeping -----------------------------------------------------------------------------------------
    def _note_served(self, response: httpx.Response) -> httpx.Response:
        if self.kind == "ollama" and REPLAY_HEADER in response.headers:
            self.capture.served = response.headers[REPLAY_HEADER]
        return response

    def _start(self, request: httpx.Request) -> Callable[[httpx.Response, bytes, bool], None]:
        """Reserve the exchange's place now (order of requests), fill it when the response ends."""
        if self.kind == "http":
            return lambda response, raw, complete: self._http_done(request, response, raw)
        if request.url.path in ROUTING_PROBES:
            return lambda response, raw, complete: None
        if chat_api(request.url.path) is None:
            return lambda response, raw, complete: self._server_done(request, response, raw)
        with self.capture.lock:
            index = len(self.capture.model_turns)
            self.capture.model_turns.append(None)
        return lambda response, raw, complete: self._turn_done(index, request, response, raw, complete)

    def _turn_done(self, index: int, request: httpx.Request, response: httpx.Response, raw: bytes, done: bool) -> None:
        body = _json_or_text(request.content)
        content_type = response.headers.get("content-type", "")
        chunks = _lines(raw) if "ndjson" in content_type else parse_sse(raw) if "event-stream" in content_type else None
        wire_response = WireResponse(
            status=response.status_code,
            content_type=content_type,
            chunks=chunks,
            body=None if chunks is not None else _json_or_text(raw),
            interrupted=not done,
        )
        turn = ModelTurn(
            turn=index,
            request=WireRequest(method=request.method, path=request.url.path, body=body, fingerprint=fingerprint(body)),
            response=wire_response,
            summary=summarise(chunks if chunks is not None else [wire_response.body]),
        )
        with self.capture.lock:
            self.capture.model_turns[index] = turn

    def _server_done(self, request: httpx.Request, response: httpx.Response, raw: bytes) -> None:
        body = _json_or_text(request.content) if request.content else {}
        model = str(body.get("model") or body.get("name") or "") if isinstance(body, dict) else ""
        exchange = ServerExchange(
            path=request.url.path, model=model, status=response.status_code, body=_json_or_text(raw)
        )
        with self.capture.lock:
            self.capture.server.append(exchange)

    def _http_done(self, request: httpx.Request, response: httpx.Response, raw: bytes) -> None:
        decoded = _decode(response, raw)
        with self.capture.lock:
            ident = f"h{len(self.capture.tool_http)}"
            body, suffix = _inline_or_blob(decoded, response.headers.get("content-type", ""))
            if body is None:
                self.capture.blobs[ident] = (decoded, suffix)
            self.capture.tool_http.append(
                HttpExchange(
                    id=ident,
                    tool=self.tool,
                    request=HttpRequest(
                        method=request.method,
                        url=str(request.url),
                        headers=self._headers(request.headers),
                        body=request.content.decode("utf-8", "replace") if request.content else None,
                    ),
                    response=HttpResponse(
                        status=response.status_code,
                        headers={k: v for k, v in response.headers.items() if k.lower() in _KEPT_RESPONSE_HEADERS},
                        body=body,
                    ),
                )
            )

    def _headers(self, headers: httpx.Headers) -> dict[str, str]:
        kept: dict[str, str] = {}
        for name, value in headers.items():
            lower = name.lower()
            if lower in _DROPPED_HEADERS:
                continue
            if lower in _SECRET_HEADERS or any(word in lower for word in ("token", "secret", "auth")):
                kept[lower] = "<redacted>"
                self.capture.redactions.add(f"header:{lower}")
            else:
                kept[lower] = value
        return kept


def _wrap(response: httpx.Response, on_done: Callable[[httpx.Response, bytes, bool], None]) -> httpx.Response:
    tee = _Tee(response, on_done)
    return httpx.Response(response.status_code, headers=response.headers, stream=tee, extensions=response.extensions)


class _Tee(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Yields each chunk on as it arrives and keeps a copy; reports once, at the end or when closed early."""

    def __init__(self, response: httpx.Response, on_done: Callable[[httpx.Response, bytes, bool], None]) -> None:
        self.response = response
        self.on_done = on_done
        self.parts: list[bytes] = []
        self.complete = False
        self.reported = False

    def __iter__(self) -> Iterator[bytes]:
        stream = self.response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        for chunk in stream:
            self.parts.append(chunk)
            yield chunk
        self.complete = True
        self._report()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        stream = self.response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        async for chunk in stream:
            self.parts.append(chunk)
            yield chunk
        self.complete = True
        self._report()

    def close(self) -> None:
        self._report()
        stream = self.response.stream
        if isinstance(stream, httpx.SyncByteStream):
            stream.close()

    async def aclose(self) -> None:
        self._report()
        stream = self.response.stream
        if isinstance(stream, httpx.AsyncByteStream):
            await stream.aclose()

    def _report(self) -> None:
        if not self.reported:
            self.reported = True
            self.on_done(self.response, b"".join(self.parts), self.complete)


def summarise(chunks: list[Any]) -> TurnSummary:
    """Content, thinking, tool calls and metrics of one reply (either wire), joined from its chunks."""
    if is_openai_reply(chunks):
        return summarise_openai(chunks)
    summary = TurnSummary()
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        message = chunk.get("message") or {}
        summary.content += message.get("content") or ""
        summary.thinking += message.get("thinking") or ""
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            summary.tool_calls.append({"name": function.get("name"), "arguments": function.get("arguments")})
        if chunk.get("done"):
            summary.done_reason = chunk.get("done_reason") or ""
            summary.prompt_tokens = int(chunk.get("prompt_eval_count") or 0)
            summary.completion_tokens = int(chunk.get("eval_count") or 0)
            summary.total_ms = round((chunk.get("total_duration") or 0) / 1e6, 3)
    return summary


def _lines(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for line in raw.splitlines():
        if line.strip():
            value = json.loads(line)
            out.append(value if isinstance(value, dict) else {"value": value})
    return out


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _decode(response: httpx.Response, raw: bytes) -> bytes:
    # The tee sees the bytes before httpx decodes them; store the decoded body (and no content-encoding).
    encoding = response.headers.get("content-encoding")
    if not encoding:
        return raw
    return httpx.Response(200, headers={"content-encoding": encoding}, content=raw).content


def _inline_or_blob(data: bytes, content_type: str) -> tuple[str | None, str]:
    suffix = ".html" if "html" in content_type else ".json" if "json" in content_type else ".bin"
    if len(data) > INLINE_LIMIT:
        return None, suffix
    try:
        return data.decode("utf-8"), suffix
    except UnicodeDecodeError:
        return None, suffix
