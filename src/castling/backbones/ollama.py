"""Ollama as a `ModelServer`: the official `ollama` client, with castling's errors and model discovery.

The httpx transport underneath is injectable (`transport=`, or scoped with `server.override_transport`): tests
answer from recorded traffic through it, and the scenario recorder and replayer plug in at the same place.

The `/api/chat` body is built here, not by `Client.chat`: the client rebuilds `tools` through its pydantic `Tool`
model, which keeps only `type`, `items`, `description` and `enum` per property, so a tool taking a nested object
would reach the server as a bare `object` (ollama-python#724). Everything else is built by the client's own
request model and sent through the client's own request path (its error handling and NDJSON parse), so the
bytes differ only in `tools`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx
import ollama
from ollama._client import _copy_messages
from ollama._types import ChatRequest as _ClientChatRequest

from castling.backbones.errors import cut_short, translate_error
from castling.backbones.memory import kv_values_per_token
from castling.backbones.server import DEFAULT_TIMEOUT, AnyTransport, FlowServer, ModelInfo, client_for
from castling.backbones.tool_schema import inline_refs
from castling.backbones.usage import Usage
from castling.backbones.wire import ChatRequest, ChatTurn, OnDelta, RawToolCall, WireTool
from castling.errors import ModelStreamError, OllamaError
from castling.sansio import Flow, arun, io, run

DEFAULT_HOST = "http://127.0.0.1:11434"
LOADED_TTL = 5.0
"""Seconds `loaded_models` trusts its last `/api/ps` answer: routing asks on every request."""
PS_TIMEOUT = 2.0
"""`/api/ps` is a hint for routing: a slow answer is not worth waiting for."""


def resolve_host(host: str | None) -> str:
    """The host to talk to: the argument, else `OLLAMA_HOST`, else the local default."""
    raw = host or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST
    if "://" not in raw:
        raw = f"http://{raw}"
    return raw.rstrip("/")


class OllamaServer(FlowServer):
    """Talks to one Ollama server over `/api/chat`; caches what `/api/show` says per model."""

    api = "ollama"

    def __init__(
        self, host: str | None = None, *, timeout: float | None = DEFAULT_TIMEOUT, transport: AnyTransport | None = None
    ) -> None:
        self.host = resolve_host(host)
        self.timeout = timeout
        self._transport = transport
        # Keyed by id(transport); the transport is kept in the value so that its id cannot be reused.
        self._clients: dict[int, tuple[AnyTransport | None, ollama.Client]] = {}
        self._aclients: dict[int, tuple[AnyTransport | None, ollama.AsyncClient]] = {}
        self._info: dict[str, ModelInfo] = {}
        self._loaded: tuple[float, frozenset[str]] = (float("-inf"), frozenset())

    # -- clients ---------------------------------------------------------------------------------------------
    @property
    def client(self) -> ollama.Client:
        """The sync client for the transport in use now (one per transport: a scoped override gets its own)."""
        return client_for(self._clients, self._transport, self._new_client)

    @property
    def aclient(self) -> ollama.AsyncClient:
        """The async client for the transport in use now."""
        return client_for(self._aclients, self._transport, self._new_aclient)

    def _new_client(self, transport: AnyTransport | None) -> ollama.Client:
        extra = {"transport": transport} if isinstance(transport, httpx.BaseTransport) else {}
        return ollama.Client(self.host, timeout=self.timeout, trust_env=False, **extra)

    def _new_aclient(self, transport: AnyTransport | None) -> ollama.AsyncClient:
        extra = {"transport": transport} if isinstance(transport, httpx.AsyncBaseTransport) else {}
        return ollama.AsyncClient(self.host, timeout=self.timeout, trust_env=False, **extra)

    # -- discovery -------------------------------------------------------------------------------------------
    # `show`, `list_models`, `chat` and their async twins come from `FlowServer`, over the flows below.
    def loaded_models(self) -> frozenset[str]:
        """The models loaded in memory now (`/api/ps`, cached a few seconds); empty when the server cannot say."""
        return run(self._loaded_models())

    async def aloaded_models(self) -> frozenset[str]:
        """The models loaded in memory now (`/api/ps`, cached a few seconds); empty when the server cannot say."""
        return await arun(self._loaded_models())

    def _show(self, model: str) -> Flow[ModelInfo]:
        """Capabilities and context length of `model` (cached)."""
        if model not in self._info:
            try:
                response = yield from io(lambda: self.client.show(model), lambda: self.aclient.show(model))
            except Exception as exc:
                raise self._translate(exc, model, installed=(yield from self._installed_quietly())) from exc
            self._info[model] = _model_info(model, response)
        return self._info[model]

    def _list_models(self) -> Flow[list[str]]:
        """Names of the installed models."""
        try:
            return _model_names((yield from io(lambda: self.client.list(), lambda: self.aclient.list())))
        except Exception as exc:
            raise self._translate(exc, "") from exc

    def _loaded_models(self) -> Flow[frozenset[str]]:
        if time.monotonic() - self._loaded[0] > LOADED_TTL:
            try:
                response = yield from io(
                    lambda: self.client._client.get("/api/ps", timeout=PS_TIMEOUT),
                    lambda: self.aclient._client.get("/api/ps", timeout=PS_TIMEOUT),
                )
                names = _loaded_names(response)
            except (httpx.HTTPError, ValueError):  # unreachable, or not JSON: no preference
                names = frozenset()
            self._loaded = time.monotonic(), names
        return self._loaded[1]

    # -- chat ------------------------------------------------------------------------------------------------
    def chat_once(self, request: ChatRequest) -> ChatTurn:
        """One non-streamed chat reply."""
        return run(self._chat(request, None, stream=False))

    async def achat_once(self, request: ChatRequest) -> ChatTurn:
        """One non-streamed chat reply."""
        return await arun(self._chat(request, None, stream=False))

    def _chat(self, request: ChatRequest, on_delta: OnDelta | None, *, stream: bool = True) -> Flow[ChatTurn]:
        """One chat reply, streamed (deltas to `on_delta`) or not, with castling's errors."""
        reader = _Reader(ChatTurn(), on_delta)
        turn = reader.turn
        try:
            body = _body(request, stream)
            if stream:
                yield from io(self._stream, self._astream, body, reader)
                if not turn.complete:
                    raise cut_short(turn, host=self.host, model=request.model)
            else:
                reader((yield from io(self._post, self._apost, body)))
        except Exception as exc:
            if reader.chunks and isinstance(exc, httpx.TransportError):
                raise self._broken(exc, request.model, turn) from exc
            installed = (yield from self._installed_quietly()) if _status(exc) == 404 else []
            raise self._translate(exc, request.model, turn=turn if stream else None, installed=installed) from exc
        return turn

    def _post(self, body: dict[str, Any]) -> ollama.ChatResponse:
        return self.client._request(ollama.ChatResponse, "POST", "/api/chat", json=body)

    async def _apost(self, body: dict[str, Any]) -> ollama.ChatResponse:
        return await self.aclient._request(ollama.ChatResponse, "POST", "/api/chat", json=body)

    def _stream(self, body: dict[str, Any], read: Callable[[ollama.ChatResponse], None]) -> None:
        stream = self.client._request(ollama.ChatResponse, "POST", "/api/chat", json=body, stream=True)
        try:
            for chunk in stream:
                read(chunk)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops the server generating when the caller gave up early

    async def _astream(self, body: dict[str, Any], read: Callable[[ollama.ChatResponse], None]) -> None:
        stream = await self.aclient._request(ollama.ChatResponse, "POST", "/api/chat", json=body, stream=True)
        try:
            async for chunk in stream:
                read(chunk)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    def close(self) -> None:
        """Close the underlying HTTP clients."""
        for _, client in self._clients.values():
            client._client.close()

    async def aclose(self) -> None:
        """Close the underlying HTTP clients."""
        self.close()
        for _, aclient in self._aclients.values():
            await aclient._client.aclose()

    # -- errors ----------------------------------------------------------------------------------------------
    def _installed_quietly(self) -> Flow[list[str]]:
        try:
            return _model_names((yield from io(lambda: self.client.list(), lambda: self.aclient.list())))
        except Exception:
            return []

    def _broken(self, exc: BaseException, model: str, turn: ChatTurn) -> ModelStreamError:
        """The connection broke after part of the reply arrived: not replayed, the part is kept on the error."""
        return ModelStreamError(
            f"The connection to Ollama at {self.host} broke in the middle of the reply from {model!r} "
            f"({type(exc).__name__}: {exc}). The {len(turn.content)} characters received so far are kept on this "
            "error (partial_text); the request was not sent again because the model may have acted on part of it.",
            host=self.host,
            model=model,
            partial_text=turn.content,
            partial_thinking=turn.thinking,
        )

    def _translate(
        self, exc: BaseException, model: str, *, turn: ChatTurn | None = None, installed: Any = ()
    ) -> OllamaError:
        return translate_error(exc, host=self.host, model=model, turn=turn, installed=list(installed))


def _status(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, ollama.ResponseError) else None


def _body(request: ChatRequest, stream: bool) -> dict[str, Any]:
    """The `/api/chat` body `Client.chat` would send, with the tool schemas as given (refs inlined)."""
    body: dict[str, Any] = _ClientChatRequest(
        model=request.model,
        messages=list(_copy_messages(request.messages)),
        tools=[],
        stream=stream,
        think=request.think,
        format=cast(Any, request.format),  # the client types it as a JSON schema or "json"; str covers both
        options=request.options,
        keep_alive=request.keep_alive,
    ).model_dump(exclude_none=True)
    body["tools"] = [_whole(tool) for tool in request.tools or ()]  # same key, same place in the body
    return body


def _whole(tool: WireTool) -> WireTool:
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("parameters"), dict):
        return tool
    return {**tool, "function": {**function, "parameters": inline_refs(function["parameters"])}}


def _loaded_names(response: httpx.Response) -> frozenset[str]:
    if response.status_code != 200:
        return frozenset()
    models = response.json().get("models") or []
    return frozenset(str(m.get("model") or m.get("name")) for m in models if isinstance(m, dict))


@dataclass
class _Reader:
    """Reads `/api/chat` chunks into `turn`; counts them, since a break after the first one is not retried."""

    turn: ChatTurn
    on_delta: OnDelta | None
    chunks: int = 0

    def __call__(self, chunk: ollama.ChatResponse) -> None:
        self.chunks += 1
        _accumulate(self.turn, chunk, self.on_delta)


def _accumulate(turn: ChatTurn, chunk: ollama.ChatResponse, on_delta: OnDelta | None) -> None:
    message = chunk.message
    if message.thinking:
        turn.thinking += message.thinking
        if on_delta is not None:
            on_delta("thinking", message.thinking)
    if message.content:
        turn.content += message.content
        if on_delta is not None:
            on_delta("text", message.content)
    for call in message.tool_calls or ():
        turn.tool_calls.append(RawToolCall(call.function.name, dict(call.function.arguments)))
    if chunk.done:
        turn.complete = True
        turn.done_reason = chunk.done_reason or ""
        metrics = chunk.model_dump(
            include={"total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count"}
            | {"eval_duration"},
            exclude_none=True,
        )
        turn.metrics = metrics
        turn.usage = Usage.from_metrics(metrics)


def _model_info(model: str, response: ollama.ShowResponse) -> ModelInfo:
    info = dict(response.modelinfo or {})
    context = next((int(v) for k, v in info.items() if k.endswith(".context_length") and v), None)
    family = str(info.get("general.architecture") or (response.details.family if response.details else "") or "")
    return ModelInfo(model, frozenset(response.capabilities or ()), context, family, kv_values_per_token(info))


def _model_names(response: ollama.ListResponse) -> list[str]:
    return sorted(m.model for m in response.models if m.model)


OllamaTransport = OllamaServer
"""The name `OllamaServer` had before the model-server seam; kept for users' code."""
