"""The model-server seam: what castling needs from a server, whichever API it speaks.

A `ModelServer` knows what a model can do (`show`) and sends one streamed chat call (`chat`), turning the
server's wire into a `ChatTurn`. Ollama's `/api/chat` (`ollama.py`) and OpenAI-compatible
`/v1/chat/completions` (vLLM, SGLang, llama.cpp's server, LM Studio) are the implementations; a backbone holds
one and never looks at the wire itself.

Tests and scenarios swap the wire underneath with `override_transport`: a scoped override (a context variable)
that every server consults when it builds its HTTP client, so an agent built anywhere, before or inside the
block, talks to the scenario while the block runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import httpx

from castling.backbones.servers import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT  # kept with the table: light for the CLI
from castling.backbones.wire import ChatRequest, ChatTurn, OnDelta
from castling.sansio import Flow, arun, run

AnyTransport = httpx.BaseTransport | httpx.AsyncBaseTransport
C = TypeVar("C")


@dataclass(frozen=True)
class ModelInfo:
    """What the server tells about a model: capabilities, context length and architecture family."""

    model: str
    capabilities: frozenset[str]
    context_length: int | None
    family: str = ""
    kv_values_per_token: int | None = None
    """Key and value elements the KV cache holds per token (from the layer and head figures); None if unknown."""

    @property
    def supports_tools(self) -> bool:
        return "tools" in self.capabilities

    @property
    def supports_thinking(self) -> bool:
        return "thinking" in self.capabilities

    @property
    def supports_vision(self) -> bool:
        return "vision" in self.capabilities


@runtime_checkable
class ModelServer(Protocol):
    """One model server (or a pool of them) as the backbones use it."""

    host: str
    """Where it is, for messages (`http://127.0.0.1:11434`, or the hosts of a pool)."""
    api: str
    """The API it speaks: `ollama` or `openai`."""

    def show(self, model: str) -> ModelInfo:
        """What `model` can do (cached); raises `ModelNotFound` naming the installed models."""
        ...

    async def ashow(self, model: str) -> ModelInfo:
        """What `model` can do (cached)."""
        ...

    def list_models(self) -> list[str]:
        """The models the server offers."""
        ...

    async def alist_models(self) -> list[str]:
        """The models the server offers."""
        ...

    def chat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatTurn:
        """Stream one reply, passing text and thinking to `on_delta`, and return it whole."""
        ...

    async def achat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatTurn:
        """Stream one reply, passing text and thinking to `on_delta`, and return it whole."""
        ...

    def close(self) -> None:
        """Close the HTTP clients."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        ...


class FlowServer:
    """The `ModelServer` methods, sync and async, over one flow each (`castling.sansio`) that a server writes.

    A server implements `_show`, `_list_models` and `_chat` once; `run` makes their I/O steps with the sync calls,
    `arun` awaits the async ones.
    """

    def show(self, model: str) -> ModelInfo:
        """What `model` can do (cached); raises `ModelNotFound` naming the installed models."""
        return run(self._show(model))

    async def ashow(self, model: str) -> ModelInfo:
        """What `model` can do (cached)."""
        return await arun(self._show(model))

    def list_models(self) -> list[str]:
        """The models the server offers."""
        return run(self._list_models())

    async def alist_models(self) -> list[str]:
        """The models the server offers."""
        return await arun(self._list_models())

    def chat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatTurn:
        """Stream one reply, passing text and thinking to `on_delta`, and return it whole."""
        return run(self._chat(request, on_delta))

    async def achat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatTurn:
        """Stream one reply, passing text and thinking to `on_delta`, and return it whole."""
        return await arun(self._chat(request, on_delta))

    def _show(self, model: str) -> Flow[ModelInfo]:
        raise NotImplementedError

    def _list_models(self) -> Flow[list[str]]:
        raise NotImplementedError

    def _chat(self, request: ChatRequest, on_delta: OnDelta | None) -> Flow[ChatTurn]:
        raise NotImplementedError


_OVERRIDE: ContextVar[AnyTransport | None] = ContextVar("castling_transport_override", default=None)


@contextmanager
def override_transport(transport: AnyTransport) -> Iterator[AnyTransport]:
    """Inside the block, every server without an explicit `transport=` sends its requests through `transport`."""
    token = _OVERRIDE.set(transport)
    try:
        yield transport
    finally:
        _OVERRIDE.reset(token)


def client_for(
    clients: dict[int, tuple[AnyTransport | None, C]],
    explicit: AnyTransport | None,
    make: Callable[[AnyTransport | None], C],
) -> C:
    """The HTTP client for the transport in use now, made once per transport: a scoped override gets its own.

    `clients` is keyed by id(transport); the transport is kept in the value so that its id cannot be reused.
    """
    transport = transport_in_use(explicit)
    entry = clients.get(id(transport))
    if entry is None:
        entry = clients[id(transport)] = transport, make(transport)
    return entry[1]


def transport_in_use(explicit: AnyTransport | None) -> AnyTransport | None:
    """The transport a server should use now: its own if it was given one, else the scoped override, if any."""
    return explicit if explicit is not None else _OVERRIDE.get()
