"""One persistent worker per agent session, started lazily and restarted after a kill or crash."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable

from ._config import PythonToolConfig
from ._output import CellResult
from ._process import WorkerProcess, WorkerStartError

log = logging.getLogger(__name__)


class Session:
    """The worker of one agent session; one cell at a time."""

    def __init__(self, config: PythonToolConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._worker: WorkerProcess | None = None
        self._current: WorkerProcess | None = None
        self._workdir: str | None = None
        self._closed = False
        self._state_lost = False
        self._reset_reason = ""
        self.last_used = clock()
        """Clock reading of the last call's start and end, for idle and LRU eviction."""

    @property
    def has_worker(self) -> bool:
        """Whether this session holds a live worker."""
        worker = self._worker
        return worker is not None and worker.alive

    def evict(self, reason: str) -> bool:
        """Stop the worker unless a cell is running; the next cell starts fresh and says why. True if stopped."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if self._worker is None:
                return False
            self._worker.close()
            self._worker = None
            self._state_lost, self._reset_reason = True, reason
            return True
        finally:
            self._lock.release()

    def run(self, code: str, cancel: threading.Event) -> CellResult:
        """Run a cell, starting (or restarting) the worker first when needed."""
        with self._lock:
            if self._closed:
                return CellResult("crashed", detail="the tool was closed")
            if cancel.is_set():  # cancelled while waiting for the session's previous cell
                return CellResult("interrupted", detail="the cell was cancelled before it started")
            if self._worker is not None and not self._worker.alive:
                self._state_lost, self._reset_reason = True, ""
            try:
                worker = self._ensure_worker()
            except WorkerStartError as exc:
                log.error("python tool: %s", exc)
                return CellResult("crashed", detail=str(exc))
            try:
                result = self._run_on(worker, code, cancel)
            finally:
                self.last_used = self._clock()  # idle time counts from the end of the last cell
            result.state_reset, self._state_lost = self._state_lost, False
            if result.state_reset and self._reset_reason:
                result.reset_reason, self._reset_reason = self._reset_reason, ""
            return result

    def _run_on(self, worker: WorkerProcess, code: str, cancel: threading.Event) -> CellResult:
        self._current = worker
        try:
            return worker.run(code, timeout=self._config.timeout, cancel=cancel)
        except Exception as exc:  # a host-side failure must not leave a half-used worker behind
            log.exception("python tool: host error while running a cell")
            worker.kill()
            return CellResult("crashed", detail=f"host error: {exc}")
        finally:
            self._current = None

    def _ensure_worker(self) -> WorkerProcess:
        if self._worker is not None and self._worker.alive:
            return self._worker
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        worker = WorkerProcess(self._config, self._process_workdir())
        try:
            worker.start()
        except BaseException:
            worker.close()
            raise
        self._worker = worker
        return worker

    def _process_workdir(self) -> str | None:
        """Process mode runs in a host directory: the given workspace or a private temporary one."""
        if self._config.sandbox == "bwrap":
            return None
        if self._config.workspace is not None:
            return str(self._config.workspace)
        if self._workdir is None:
            self._workdir = tempfile.mkdtemp(prefix="castling-python-")
            if os.geteuid() == 0:
                os.chown(self._workdir, self._config.sandbox_uid, self._config.sandbox_uid)
        return self._workdir

    def wake(self) -> None:
        """Make a running cell notice its cancel event now."""
        worker = self._current
        if worker is not None:
            worker.wake()

    def close(self) -> None:
        """Kill the worker (a running cell ends as crashed) and free everything."""
        self._closed = True
        worker = self._current or self._worker
        if worker is not None:
            worker.kill()
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None


class SessionPool:
    """Sessions keyed by the agent session (LangGraph thread) id, with idle and LRU eviction of their workers.

    Eviction happens when a session is fetched for a call (no background thread), so a tool that is never
    called again keeps its workers until `close()`. Sessions running a cell are never evicted: with more busy
    sessions than `max_workers`, the cap is exceeded until they finish.
    """

    def __init__(self, config: PythonToolConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.clock = clock
        """Time source for idle and LRU eviction (replaceable, e.g. by a fake clock in tests)."""

    def get(self, key: str) -> Session:
        """The session for `key` (created on first use), marked as used now; cheap, call `make_room` next."""
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = Session(self._config, lambda: self.clock())
            session.last_used = self.clock()
            return session

    def make_room(self, session: Session) -> None:
        """Stop other sessions' idle and surplus workers before `session` runs (blocking: kills processes)."""
        with self._lock:
            now = self.clock()
            others = sorted((s for s in self._sessions.values() if s is not session), key=lambda s: s.last_used)
        self._evict(others, now, needs_slot=not session.has_worker)

    def _evict(self, others: list[Session], now: float, *, needs_slot: bool) -> None:
        live = [s for s in others if s.has_worker]
        limit = self._config.idle_timeout
        if limit is not None:
            for s in [s for s in live if now - s.last_used > limit]:
                if s.evict(f"the previous one was stopped after {limit:g} s without use"):
                    live.remove(s)
        surplus = len(live) + (1 if needs_slot else 0) - self._config.max_workers
        for s in live:  # least recently used first
            if surplus <= 0:
                break
            reason = f"the previous one was stopped to stay within {self._config.max_workers} live interpreters"
            if s.evict(reason):
                surplus -= 1

    def live_workers(self) -> int:
        """How many sessions hold a live worker."""
        with self._lock:
            return sum(s.has_worker for s in self._sessions.values())

    def close(self) -> None:
        """Close every session's worker."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            with contextlib.suppress(Exception):
                session.close()
