"""A pool of model servers behind one `ModelServer`: `make_server("ollama", ["http://gpu1:11434", ...])`.

Each request goes to the host with the fewest requests in flight; among equals, to one that already has the
model loaded (Ollama's `/api/ps`), then to the first listed, so that the steps of one run keep landing where
their prompt prefix is cached. `max_in_flight` caps each host; callers wait for a free slot (threads and
coroutines alike).

A host that refuses the connection or fails before the first byte (connect error, 5xx, a dropped connection
before any chunk) is marked down for `retry_after` seconds and the request goes to the next host. A stream that
breaks mid-way is not replayed elsewhere: the model may already have acted on part of it, so the
`ModelStreamError` with the partial text reaches the caller. When every host fails, `PoolUnavailable` says
which hosts were tried and what each said.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence

from castling.backbones.pool_hosts import (
    RETRY_AFTER,
    Failures,
    HostHealth,
    Member,
    PoolUnavailable,
    before_first_byte,
    exhausted,
)
from castling.backbones.server import FlowServer, ModelInfo, ModelServer
from castling.backbones.wire import ChatRequest, ChatTurn, OnDelta
from castling.errors import ConfigError, OllamaError
from castling.sansio import Flow, io

__all__ = ["RETRY_AFTER", "HostHealth", "Pool", "PoolUnavailable", "before_first_byte"]


class Pool(FlowServer):
    """Several servers speaking the same API, used as one."""

    def __init__(
        self,
        servers: Sequence[ModelServer],
        *,
        max_in_flight: int | None = None,
        retry_after: float = RETRY_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not servers:
            raise ConfigError("A pool needs at least one server: pass a list of hosts or servers.")
        if len({server.api for server in servers}) > 1:
            raise ConfigError("A pool's servers must speak one API: make one pool per API.")
        if max_in_flight is not None and max_in_flight < 1:
            raise ConfigError(f"max_in_flight must be at least 1 (or None for no limit), not {max_in_flight}.")
        self.api = servers[0].api
        self.host = ", ".join(server.host for server in servers)
        self.max_in_flight = max_in_flight
        self.retry_after = retry_after
        self._clock = clock
        self._members = [Member(i, server) for i, server in enumerate(servers)]
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._info: dict[str, ModelInfo] = {}

    @property
    def servers(self) -> list[ModelServer]:
        return [member.server for member in self._members]

    def health(self) -> list[HostHealth]:
        """Each host's requests in flight, back-off and last failure."""
        now = self._clock()
        with self._lock:
            return [member.health(now) for member in self._members]

    # -- chat and discovery (`show`, `list_models`, `chat` and their async twins come from `FlowServer`) -------
    def _chat(self, request: ChatRequest, on_delta: OnDelta | None) -> Flow[ChatTurn]:
        """Stream one reply from the best host, moving on to the next while hosts fail before the first byte."""
        failures: Failures = []
        while True:
            loaded = yield from self._loaded(request.model)
            member = yield from io(self._acquire, self._aacquire, request.model, failures, loaded)
            if member is None:
                raise self._exhausted(request.model, failures)
            try:
                return (yield from io(member.server.chat, member.server.achat, request, on_delta))
            except OllamaError as exc:
                self._note_failure(member, exc, request.model, failures)
            finally:
                self._release(member)

    def _show(self, model: str) -> Flow[ModelInfo]:
        """What `model` can do, from the first healthy host that has it (cached)."""
        if model not in self._info:
            failures: Failures = []
            for member in self._in_order(model):
                try:
                    self._info[model] = yield from io(member.server.show, member.server.ashow, model)
                    break
                except OllamaError as exc:
                    self._note_failure(member, exc, model, failures)
            else:
                raise self._exhausted(model, failures)
        return self._info[model]

    def _list_models(self) -> Flow[list[str]]:
        """The models any healthy host offers (a model on one host only is still listed)."""
        failures: Failures = []
        answers: list[list[str]] = []
        for member in self._in_order(""):
            try:
                answers.append((yield from io(member.server.list_models, member.server.alist_models)))
            except OllamaError as exc:
                self._note_failure(member, exc, "", failures)
        if not answers:
            raise self._exhausted("", failures)
        return sorted({name for names in answers for name in names})

    def close(self) -> None:
        for member in self._members:
            member.server.close()

    async def aclose(self) -> None:
        for member in self._members:
            await member.server.aclose()

    # -- routing ---------------------------------------------------------------------------------------------
    def _candidates(self, model: str, failures: Sequence[tuple[Member, OllamaError]]) -> list[Member]:
        """Hosts not yet tried for this request that may have `model`: the up ones, else the ones backing off."""
        tried = {member.index for member, _ in failures}
        now = self._clock()
        left = [m for m in self._members if m.index not in tried and m.missing.get(model, now) <= now]
        up = [m for m in left if m.down_until <= now]
        return up or left

    def _in_order(self, model: str) -> list[Member]:
        """The hosts to ask, in order, for discovery: the up ones (or, when all are down, all of them)."""
        with self._lock:
            return self._candidates(model, ())

    def _pick(self, model: str, failures: Sequence[tuple[Member, OllamaError]], loaded: set[int]) -> Member | None:
        """Under the lock: the host to use and its slot taken, `None` if none is left, `_FULL` to wait."""
        candidates = self._candidates(model, failures)
        if not candidates:
            return None
        free = [m for m in candidates if self.max_in_flight is None or m.in_flight < self.max_in_flight]
        if not free:
            return _FULL
        best = min(free, key=lambda m: (m.in_flight, m.index not in loaded, m.index))
        best.in_flight += 1
        return best

    def _acquire(self, model: str, failures: Sequence[tuple[Member, OllamaError]], loaded: set[int]) -> Member | None:
        with self._freed:
            while (member := self._pick(model, failures, loaded)) is _FULL:
                self._freed.wait()
            return member

    async def _aacquire(
        self, model: str, failures: Sequence[tuple[Member, OllamaError]], loaded: set[int]
    ) -> Member | None:
        while True:
            with self._lock:
                member = self._pick(model, failures, loaded)
                if member is not _FULL:
                    return member
                loop = asyncio.get_running_loop()
                waiter: asyncio.Future[None] = loop.create_future()
                self._async_waiters.append((loop, waiter))
            await waiter

    def _release(self, member: Member) -> None:
        with self._freed:
            member.in_flight -= 1
            self._freed.notify_all()
            waiters, self._async_waiters = self._async_waiters, []
        for loop, waiter in waiters:
            try:
                loop.call_soon_threadsafe(_wake, waiter)
            except RuntimeError:  # that loop is closed: nobody waits on it any more
                pass

    def _loaded(self, model: str) -> Flow[set[int]]:
        """Indexes of the up hosts that say they have `model` loaded (only asked when it could change the pick)."""
        if len(self._members) == 1:
            return set()
        found = set()
        for member in self._in_order(model):
            ask = getattr(member.server, "loaded_models", None)
            aask = getattr(member.server, "aloaded_models", None)
            if ask is not None and aask is not None and model in (yield from io(ask, aask)):
                found.add(member.index)
        return found

    # -- failures --------------------------------------------------------------------------------------------
    def _note_failure(self, member: Member, exc: OllamaError, model: str, failures: Failures) -> None:
        """Record a failure another host can make up for, or re-raise the ones it cannot."""
        with self._lock:
            member.note_failure(exc, model, self._clock() + self.retry_after)
        failures.append((member, exc))

    def _exhausted(self, model: str, failures: Sequence[tuple[Member, OllamaError]]) -> OllamaError:
        return exhausted(self.host, len(self._members), model, failures)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


_FULL: Member = Member(-1, None)  # type: ignore[arg-type]
"""`_pick`'s answer when every candidate host is at `max_in_flight`."""
