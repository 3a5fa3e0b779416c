"""One persistent worker per agent session, started lazily and restarted after a kill or crash."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

from castling.errors import ConfigError

from ._config import PythonToolConfig
from ._output import CellResult
from ._process import WorkerProcess, WorkerStartError

log = logging.getLogger(__name__)


def prepare_workspace(path: Path, uid: int) -> None:
    """Create a host workspace and, on a root host, hand it to the sandbox uid so cells can write there."""
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return
    os.chown(path, uid, uid)
    for parent in path.parents:
        st = parent.stat()
        if st.st_uid != uid and not st.st_mode & stat.S_IXOTH:
            raise ConfigError(
                f"the workspace {path} is not reachable by the sandbox uid {uid}: {parent} is not searchable by "
                f"others (mode {stat.S_IMODE(st.st_mode):o}). Choose a workspace outside it or `chmod o+x {parent}`."
            )


class Session:
    """The worker of one agent session; one cell at a time."""

    def __init__(self, config: PythonToolConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._worker: WorkerProcess | None = None
        self._current: WorkerProcess | None = None
        self._workdir: str | None = None
        self._closed = False
        self._state_lost = False

    def run(self, code: str, cancel: threading.Event) -> CellResult:
        """Run a cell, starting (or restarting) the worker first when needed."""
        with self._lock:
            if self._closed:
                return CellResult("crashed", detail="the tool was closed")
            if cancel.is_set():  # cancelled while waiting for the session's previous cell
                return CellResult("interrupted", detail="the cell was cancelled before it started")
            if self._worker is not None and not self._worker.alive:
                self._state_lost = True
            try:
                worker = self._ensure_worker()
            except WorkerStartError as exc:
                log.error("python tool: %s", exc)
                return CellResult("crashed", detail=str(exc))
            result = self._run_on(worker, code, cancel)
            result.state_reset, self._state_lost = self._state_lost, False
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
            return str(self._config.workspace.resolve())
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
    """Sessions keyed by the agent session (LangGraph thread) id."""

    def __init__(self, config: PythonToolConfig) -> None:
        self._config = config
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Session:
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = Session(self._config)
            return session

    def close(self) -> None:
        """Close every session's worker."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            with contextlib.suppress(Exception):
                session.close()
