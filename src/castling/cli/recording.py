"""The chat's model traffic, recorded at the wire from the start, so `/save PATH` can write a scenario.

The chat's Ollama client talks through a scenarios `RecordingTransport` (it tees each chunk to the chat as it
arrives and keeps a copy), so whatever the model said is in the recording, streamed replies included. The
recording only knows *traffic*; the chat tells it what happened around it (a reply interrupted, a call rejected
or edited at the approval question, settings changed between turns), because then the castling agent cannot
reproduce the conversation by itself and the scenario is saved with the `wire` runner (the recorded requests
are resent as they were) instead of the `agent` runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from castling.backbones.server import AnyTransport
from castling.scenarios.format import REPLAY_HEADER, Source
from castling.scenarios.recorder import Capture, RecordingTransport

FAILED = "a turn failed"
"""The note a failed turn leaves (wire replay; `/save` scaffolds no `no_error` for it)."""


class NetworkWatch(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Real HTTP (sync and async), noting whether the server is `castling serve` (its answers carry a header)."""

    def __init__(self) -> None:
        self.async_ = httpx.AsyncHTTPTransport()
        self._sync: httpx.HTTPTransport | None = None  # made when first used: each transport costs an SSL context
        self.served = ""
        """The scenario file `castling serve` replays, when it is the server."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._sync is None:
            self._sync = httpx.HTTPTransport()
        return self._note(self._sync.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._note(await self.async_.handle_async_request(request))

    def _note(self, response: httpx.Response) -> httpx.Response:
        self.served = response.headers.get(REPLAY_HEADER, self.served)
        return response

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        await self.async_.aclose()


@dataclass
class SessionRecorder:
    """What the chat's conversation sent and received, and what the agent alone could not reproduce."""

    capture: Capture
    transport: AnyTransport
    """The transport the chat's Ollama client uses (records into `capture`)."""
    network: bool
    """True when the chat talks to a server over the network (a real Ollama, or `castling serve`)."""
    watch: NetworkWatch | None = None
    session_id: str = ""
    start: int = 0
    """Index of the current conversation's first model turn in `capture.model_turns`."""
    http_start: int = 0
    turns: int = 0
    """User turns sent in this conversation since the recording started."""
    notes: list[str] = field(default_factory=list)
    """Why the agent runner cannot reproduce this conversation (empty: it can)."""
    settings: list[tuple[Any, ...]] = field(default_factory=list)

    @classmethod
    def wrap(cls, transport: AnyTransport | None) -> SessionRecorder:
        """Record around `transport`, or around the real network when None (talking to Ollama)."""
        capture = Capture()
        watch = NetworkWatch() if transport is None else None
        inner: AnyTransport = watch if watch is not None else transport  # type: ignore[assignment]
        return cls(capture, RecordingTransport(inner, capture, kind="ollama"), network=watch is not None, watch=watch)

    @property
    def source(self) -> Source:
        """`live` only when a real model answered: a scripted transport or `castling serve` is `constructed`."""
        return "live" if self.network and not self.served else "constructed"

    @property
    def served(self) -> str:
        return self.watch.served if self.watch is not None else ""

    def http_wrapper(self) -> Callable[[Any], RecordingTransport]:
        """`transport=` for the fetch tool: its (address-pinning) transport, recorded into the same capture."""

        def wrap(inner: Any) -> RecordingTransport:
            return RecordingTransport(inner, self.capture, kind="http", tool="fetch")

        return wrap

    def turn_started(self, session_id: str, settings: tuple[Any, ...]) -> None:
        """A user turn is about to be sent on `session_id` (a new id starts a new conversation)."""
        if session_id != self.session_id:
            self.session_id = session_id
            self.start = len(self.capture.model_turns)
            self.http_start = len(self.capture.tool_http)
            self.turns, self.notes, self.settings = 0, [], []
        self.turns += 1
        if self.settings and settings != self.settings[-1]:
            self.note("the settings changed between turns (/model, /set, /tools, ...)")
        self.settings.append(settings)

    def note(self, why: str) -> None:
        """Something happened that the agent runner cannot replay."""
        if why not in self.notes:
            self.notes.append(why)

    def conversation(self) -> Capture:
        """The recording of the current conversation only (discovery calls are kept: they replay in any order)."""
        turns = [t for t in self.capture.model_turns[self.start :] if t is not None]
        exchanges = self.capture.tool_http[self.http_start :]
        return Capture(
            model_turns=[t.model_copy(update={"turn": i}) for i, t in enumerate(turns)],
            server=list(self.capture.server),
            tool_http=exchanges,
            blobs={e.id: self.capture.blobs[e.id] for e in exchanges if e.id in self.capture.blobs},
            redactions=set(self.capture.redactions),
        )
