"""Run extraction in a separate process with a hard wall-clock deadline.

A thread cannot be killed, and lxml/trafilatura spend seconds in C code on hostile HTML (100k elements), so the
work goes to a persistent worker process that is killed at the deadline and restarted lazily on the next call.
The worker is a plain `subprocess.Popen` driven from a thread, so it does not belong to any one event loop and one
worker can be shared by every tool in the process.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import queue
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from castling.tools.web._confine import deny_program
from castling.tools.web._extract import Extracted, extract_html, extract_pdf
from castling.tools.web._spawn import StderrTail, confinement, worker_environment
from castling.tools.web._worker import _HEAD, encode_frame

logger = logging.getLogger(__name__)
STARTUP_TIMEOUT = 60.0


class ExtractionFailed(Exception):
    """Extraction timed out or failed; the message is one line for the model."""


class Extractor(Protocol):
    """Turns HTML or PDF bytes into text within a deadline.

    `timeout` is the time left for the whole extraction, from the call: waiting for a free worker (and a cold
    start) counts against it.
    """

    async def html(self, html: str, url: str, timeout: float) -> Extracted:
        """Extract the main content of an HTML page."""
        ...

    async def pdf(self, data: bytes, timeout: float) -> Extracted:
        """Extract the text of a PDF."""
        ...


class ProcessExtractor:
    """Extraction in a persistent worker subprocess, killed and restarted when a call passes its deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr = StderrTail(None)
        self.starts = 0
        """How many worker processes were started (more than one means one was killed or died)."""
        self.confined: list[str] = []
        """What the running worker applied to itself: "rlimits", "seccomp"."""

    async def html(self, html: str, url: str, timeout: float) -> Extracted:
        return await asyncio.to_thread(self.call, {"op": "html", "url": url}, html.encode("utf-8", "replace"), timeout)

    async def pdf(self, data: bytes, timeout: float) -> Extracted:
        return await asyncio.to_thread(self.call, {"op": "pdf"}, data, timeout)

    def close(self) -> None:
        """Stop the worker (it is restarted on the next call)."""
        with self._lock:
            self._kill()

    def call(self, header: dict[str, Any], payload: bytes, timeout: float) -> Extracted:
        """Send one request to the worker and wait for the answer (blocking; killed at the deadline).

        The deadline is `timeout` seconds from now: waiting for this worker and starting it count against it.
        """
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=max(timeout, 0.0)):
            raise ExtractionFailed(f"the extraction worker stayed busy for the whole {timeout:.1f} s left")
        try:
            proc = self._ensure_started()
            assert proc.stdin is not None
            if (left := deadline - time.monotonic()) <= 0:  # don't kill a warm worker for a request never sent
                raise ExtractionFailed("no time was left for extraction after waiting for (or starting) the worker")
            try:
                proc.stdin.write(encode_frame(header, payload))
                proc.stdin.flush()
                answer = self._read_answer(proc, deadline)
            except TimeoutError as exc:  # before OSError, of which it is a subclass
                self._kill()
                raise ExtractionFailed(f"extraction took longer than the {left:.1f} s left and was stopped") from exc
            except (OSError, ValueError, EOFError) as exc:
                reason = self._stopped_reason(exc)
                logger.error("the extraction worker failed: %s; its stderr ends with:\n%s", reason, self._stderr)
                raise ExtractionFailed(f"the extraction worker failed ({reason}); it will be restarted") from exc
        finally:
            self._lock.release()
        if not answer.get("ok"):
            raise ExtractionFailed(f"extraction failed: {answer.get('error', 'unknown error')}")
        return Extracted(str(answer["title"]), str(answer["text"]), str(answer["method"]))

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_worker.py")), json.dumps(confinement())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C in the REPL must not hit the worker mid-frame
            env=worker_environment(),
            cwd="/",
        )
        self._proc = proc
        self._stderr = StderrTail(proc)
        self.starts += 1
        try:
            ready = self._read_answer(proc, time.monotonic() + STARTUP_TIMEOUT)
        except (TimeoutError, OSError, ValueError, EOFError) as exc:
            reason = self._stopped_reason(exc)
            logger.error("the extraction worker did not start: %s; its stderr ends with:\n%s", reason, self._stderr)
            raise ExtractionFailed(f"the extraction worker did not start: {reason}") from exc
        self.confined = list(ready.get("confined", []))
        if "seccomp" not in self.confined and deny_program() is not None:
            logger.warning("the extraction worker runs without its seccomp filter (no_new_privs or seccomp refused)")
        return proc

    def _stopped_reason(self, exc: BaseException) -> str:
        """Kill the worker and say why it stopped: the end of its stderr (an import error...), else `exc`."""
        self._kill()
        return self._stderr.last_error() or str(exc) or type(exc).__name__

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs (for diagnostics)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _read_answer(self, proc: subprocess.Popen[bytes], deadline: float) -> dict[str, Any]:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        head = _read_exact(fd, _HEAD.size, deadline)
        header_len, payload_len = _HEAD.unpack(head)
        body = _read_exact(fd, header_len + payload_len, deadline)
        result: dict[str, Any] = json.loads(body[:header_len])
        return result

    def _kill(self) -> None:
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait()
        self._stderr.finish()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()
        self._proc = None


def _read_exact(fd: int, n: int, deadline: float) -> bytes:
    data = bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while len(data) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                raise TimeoutError
            chunk = os.read(fd, n - len(data))
            if not chunk:
                raise EOFError("the extraction worker exited")
            data += chunk
    return bytes(data)


class InProcessExtractor:
    """Extraction in the calling process: no isolation and no hard deadline (benchmarks and trusted input)."""

    async def html(self, html: str, url: str, timeout: float) -> Extracted:
        return extract_html(html, url)

    async def pdf(self, data: bytes, timeout: float) -> Extracted:
        return extract_pdf(data)


class _Worker(Protocol):
    def call(self, header: dict[str, Any], payload: bytes, timeout: float) -> Extracted: ...

    def close(self) -> None: ...


class ExtractorPool:
    """Up to `size` worker processes, each started on first need, so concurrent fetches extract in parallel.

    A call waits for a free worker at most its `timeout`, and only the time left goes to the extraction.
    """

    def __init__(self, size: int = 2, make_worker: Callable[[], _Worker] = ProcessExtractor) -> None:
        self.workers = [make_worker() for _ in range(max(1, size))]
        # Last in, first out: a lone caller keeps reusing the warm worker; others start only under concurrency.
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        for worker in reversed(self.workers):
            self._idle.put(worker)

    async def html(self, html: str, url: str, timeout: float) -> Extracted:
        payload = html.encode("utf-8", "replace")
        return await asyncio.to_thread(self._call, {"op": "html", "url": url}, payload, timeout)

    async def pdf(self, data: bytes, timeout: float) -> Extracted:
        return await asyncio.to_thread(self._call, {"op": "pdf"}, data, timeout)

    def close(self) -> None:
        """Stop every worker."""
        for worker in self.workers:
            worker.close()

    def _call(self, header: dict[str, Any], payload: bytes, timeout: float) -> Extracted:
        deadline = time.monotonic() + timeout
        try:
            worker = self._idle.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            raise ExtractionFailed(f"no extraction worker became free within the {timeout:.1f} s left") from None
        try:
            return worker.call(header, payload, deadline - time.monotonic())
        finally:
            self._idle.put(worker)


_shared: ExtractorPool | None = None
_shared_lock = threading.Lock()


def shared_extractor() -> ExtractorPool:
    """The process-wide worker pool (two workers) used by tools that were not given their own extractor."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ExtractorPool(2)
            atexit.register(_shared.close)
        return _shared
