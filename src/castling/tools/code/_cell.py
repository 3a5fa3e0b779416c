"""The host's event loop for one cell: output capture, frame decoding, and the interrupt/kill timeline."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from typing import TYPE_CHECKING

from ._output import CappedBuffer, CellResult
from ._protocol import FrameDecoder, FrameTooLarge
from ._reply import from_reply

if TYPE_CHECKING:
    from ._process import WorkerProcess

CHUNK = 1 << 16
MAX_DRAIN_READS = 64  # 4 MiB, four times the pipe size


class CellRun:
    """The event loop of one cell: output capture, frame decoding, the interrupt/kill timeline."""

    def __init__(self, worker: WorkerProcess, request_id: str, timeout: float, cancel: threading.Event) -> None:
        assert worker.pipes is not None
        self.worker, self.pipes, self.id = worker, worker.pipes, request_id
        config = worker.config
        self.out = CappedBuffer(config.output_head, config.output_tail)
        self.err = CappedBuffer(config.output_head, config.output_tail)
        self.decoder = FrameDecoder(config.max_frame)
        self.deadline = time.monotonic() + timeout
        self.kill_at: float | None = None
        self.reason = f"the cell ran longer than the {timeout:g} s timeout"
        self.grace = config.grace
        self.cancel = cancel
        self.oom_kills = worker.oom_kills()

    def wait(self) -> CellResult:
        with selectors.DefaultSelector() as selector:
            for fd in (self.pipes.stdout, self.pipes.stderr, self.pipes.from_worker, self.worker.wake_fd):
                selector.register(fd, selectors.EVENT_READ)
            while True:
                result = self._step(selector)
                if result is not None:
                    return result

    def _step(self, selector: selectors.BaseSelector) -> CellResult | None:
        now = time.monotonic()
        if self.kill_at is None and (now >= self.deadline or self.cancel.is_set()):
            if self.cancel.is_set():
                self.reason = "the cell was cancelled"
            self._signal(signal.SIGINT)
            self.kill_at = now + self.grace
        elif self.kill_at is not None and now >= self.kill_at:
            self.worker.kill()
            return self._finish(CellResult("killed", detail=f"{self.reason} and ignored the interrupt"))
        timeout = max(0.0, (self.kill_at if self.kill_at is not None else self.deadline) - now)
        for key, _ in selector.select(timeout):
            result = self._on_readable(selector, int(key.fd))
            if result is not None:
                return result
        return None

    def _on_readable(self, selector: selectors.BaseSelector, fd: int) -> CellResult | None:
        if fd == self.worker.wake_fd:
            self.worker.drain_wake()
            return None
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            return None
        if fd != self.pipes.from_worker:
            if data:
                (self.out if fd == self.pipes.stdout else self.err).feed(data)
            else:
                selector.unregister(fd)
            return None
        if not data:
            return self._crashed()
        try:
            frames = self.decoder.feed(data)
        except FrameTooLarge as exc:
            self.worker.kill()
            return self._finish(CellResult("crashed", detail=f"protocol violation: {exc}"))
        for frame in frames:
            if frame.get("id") == self.id:  # forged frames (wrong id) are dropped
                if not self.worker.config.background:
                    self.worker.stop_stragglers()
                return self._finish(from_reply(frame, self.reason if self.kill_at else ""))
        return None

    def _signal(self, signum: int) -> None:
        if self.worker.worker_pid and self.worker.alive:
            with contextlib.suppress(OSError):
                os.kill(self.worker.worker_pid, signum)

    def _crashed(self) -> CellResult:
        proc = self.worker.proc
        code = None
        if proc is not None:
            # bwrap exits with its child's status (128 + signal number when it was killed by a signal).
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.5)
        self.worker.kill()
        return self._finish(CellResult("crashed", detail=_exit_detail(code)))

    def _finish(self, result: CellResult) -> CellResult:
        # Everything the worker wrote before its reply frame is already in the pipes: drain it.
        drain(self.pipes.stdout, self.out)
        drain(self.pipes.stderr, self.err)
        result.stdout, result.stderr = self.out.text(), self.err.text()
        if (killed := self.worker.oom_kills() - self.oom_kills) > 0:
            result.limits.append(
                f"the sandbox reached its memory budget ({self.worker.config.memory // 1024**2} MiB for all its "
                f"processes together): the kernel killed {killed} process{'es' if killed > 1 else ''} to stay within it"
            )
        return result


def drain(fd: int, buffer: CappedBuffer) -> None:
    """Read what a non-blocking pipe holds now, bounded: a background thread may still be printing."""
    with contextlib.suppress(OSError):
        for _ in range(MAX_DRAIN_READS):
            data = os.read(fd, CHUNK)
            if not data:
                return
            buffer.feed(data)


def _exit_detail(code: int | None) -> str:
    if code is None:
        return "the worker stopped answering"
    signum = -code if code < 0 else code - 128 if code > 128 else 0
    if signum:
        with contextlib.suppress(ValueError):
            return f"the worker was killed by {signal.Signals(signum).name}"
    return f"the worker exited with status {code}"
