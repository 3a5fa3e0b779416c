"""Start subprocesses from one long-lived thread.

bwrap's ``--die-with-parent`` uses PR_SET_PDEATHSIG, which fires when the *thread* that forked bwrap exits, not
the process. Workers are started from executor or short-lived threads, so without this a sandbox would die
(losing the session's state) as soon as that thread ended. The spawner thread lives as long as the host
process, so sandboxes still die with the host.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")

_jobs: queue.SimpleQueue[tuple[Callable[[], object], Future[object]]] = queue.SimpleQueue()
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _serve() -> None:
    while True:
        job, future = _jobs.get()
        try:
            future.set_result(job())
        except BaseException as exc:  # handed to the caller
            future.set_exception(exc)


def call_in_spawner(job: Callable[[], T]) -> T:
    """Run `job` (typically a Popen) on the spawner thread and return its result."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():  # also after a fork of the host process
            _thread = threading.Thread(target=_serve, name="castling-sandbox-spawner", daemon=True)
            _thread.start()
    future: Future[object] = Future()
    _jobs.put((job, future))
    return future.result()  # type: ignore[return-value]
