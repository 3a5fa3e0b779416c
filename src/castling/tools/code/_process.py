"""One running worker seen from the host: spawn, run a cell under a deadline, interrupt, kill.

Everything here is synchronous and runs in a worker thread; `interrupt()` may be called from any thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import selectors
import signal
import subprocess
import threading
import time
from typing import Any

from ._config import PythonToolConfig
from ._launch import (
    HOST_ENV,
    SANDBOX_WORKER,
    WORKER_SOURCE,
    Pipes,
    bwrap_argv,
    find_bwrap,
    memfd,
    passwd_line,
    sandbox_identity,
    spawn_uid,
    worker_args,
)
from ._output import CappedBuffer, CellResult, Status
from ._protocol import FrameDecoder, FrameTooLarge, encode

_CHUNK = 1 << 16
_PIPE_SIZE = 1 << 20


class WorkerStartError(RuntimeError):
    """A new worker did not come up."""


def _pipe() -> tuple[int, int]:
    r, w = os.pipe()
    with contextlib.suppress(OSError):  # a bigger pipe means fewer wake-ups during an output flood
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    return r, w


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


class WorkerProcess:
    """A persistent interpreter in a sandbox (or, opted in, a plain process)."""

    def __init__(self, config: PythonToolConfig, workdir: str | None) -> None:
        self._config = config
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None
        self._pipes: Pipes | None = None
        self._worker_pid = 0
        self._wake_r, self._wake_w = os.pipe()
        self._dead = False

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the worker and wait for its ready frame."""
        pipes = self._make_pipes()
        self._pipes = pipes
        sandboxed = self._config.sandbox == "bwrap"
        data_fds: list[int] = []
        who = sandbox_identity(spawn_uid(self._config))
        try:
            if sandboxed:
                argv, data_fds = self._bwrap_command(pipes)
            else:
                source = WORKER_SOURCE.read_text()
                argv = [self._config.python_executable, "-I", "-B", "-c", source]
            argv += worker_args(self._config, pipes, sandboxed=sandboxed)
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=pipes.stdout_w,
                stderr=pipes.stderr_w,
                pass_fds=[*pipes.child_fds, *data_fds],
                env=HOST_ENV if sandboxed else self._process_env(),
                cwd="/" if sandboxed else self._workdir,
                start_new_session=True,
                user=who.user,
                group=who.group,
                extra_groups=who.extra_groups,
            )
        finally:
            for fd in [*pipes.child_fds, pipes.stdout_w, pipes.stderr_w, *data_fds]:
                os.close(fd)
        self._await_ready()

    def _make_pipes(self) -> Pipes:
        worker_in, to_worker = os.pipe()
        from_worker, worker_out = _pipe()
        stdout, stdout_w = _pipe()
        stderr, stderr_w = _pipe()
        for fd in (from_worker, stdout, stderr):
            os.set_blocking(fd, False)
        return Pipes(to_worker, from_worker, stdout, stderr, stdout_w, stderr_w, worker_in, worker_out)

    def _bwrap_command(self, pipes: Pipes) -> tuple[list[str], list[int]]:
        uid = self._config.sandbox_uid if os.geteuid() == 0 else os.getuid()
        source = memfd("castling-worker", WORKER_SOURCE.read_bytes())
        passwd = memfd("castling-passwd", passwd_line(uid))
        argv = bwrap_argv(find_bwrap(self._config), self._config, source_fd=source, passwd_fd=passwd)
        return [*argv, self._config.python_executable, "-I", "-B", SANDBOX_WORKER], [source, passwd]

    def _process_env(self) -> dict[str, str]:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg"}
        env |= {"HOME": self._workdir or "/", "TMPDIR": self._workdir or "/tmp"}
        return env

    def _await_ready(self) -> None:
        deadline = time.monotonic() + self._config.start_timeout
        frames = self._collect(deadline, lambda frame: frame.get("id") == "ready")
        if frames is None:
            stderr = self._drain_text()
            self.kill()
            raise WorkerStartError(f"the sandbox did not start: {stderr or 'no ready message'}")
        self._worker_pid = self._find_worker_pid()

    def _find_worker_pid(self) -> int:
        assert self._proc is not None
        if self._config.sandbox != "bwrap":
            return self._proc.pid
        # bwrap -> namespace init (reaper) -> worker: the worker is the init's only child.
        for init in _children(self._proc.pid):
            for pid in _children(init):
                return pid
        return 0

    @property
    def alive(self) -> bool:
        return not self._dead and self._proc is not None and self._proc.poll() is None

    def wake(self) -> None:
        """Wake a running cell's loop so it notices its cancel event (thread-safe)."""
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    def kill(self) -> None:
        """Kill the whole sandbox (every process in it) and reap bwrap."""
        self._dead = True
        if self._proc is None:
            return
        # Killing the PID namespace's init takes every process in the namespace with it.
        for pid in _children(self._proc.pid) if self._config.sandbox == "bwrap" else []:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)

    def close(self) -> None:
        """Kill the worker and release every fd."""
        self.kill()
        fds = [self._wake_r, self._wake_w]
        if self._pipes is not None:
            fds += [self._pipes.to_worker, self._pipes.from_worker, self._pipes.stdout, self._pipes.stderr]
            self._pipes = None
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- running a cell ------------------------------------------------------------------------------------
    def run(self, code: str, *, timeout: float, cancel: threading.Event) -> CellResult:
        """Run one cell: SIGINT at `timeout` or when `cancel` is set, kill after the grace period."""
        assert self._pipes is not None
        request_id = secrets.token_hex(8)
        self._drain_wake()
        try:
            self._send({"id": request_id, "op": "run", "code": code})
        except OSError as exc:
            self.kill()
            return CellResult("crashed", detail=f"could not send the cell: {exc}")
        return _CellRun(self, request_id, timeout, cancel).wait()

    def _send(self, message: dict[str, Any]) -> None:
        assert self._pipes is not None
        data = memoryview(encode(message))
        while data:
            data = data[os.write(self._pipes.to_worker, data) :]

    def _drain_wake(self) -> None:
        os.set_blocking(self._wake_r, False)
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 4096):
                pass

    def _drain_text(self) -> str:
        assert self._pipes is not None
        buffer = CappedBuffer(2000, 500)
        for fd in (self._pipes.stdout, self._pipes.stderr):
            with contextlib.suppress(OSError):
                while data := os.read(fd, _CHUNK):
                    buffer.feed(data)
        return buffer.text().strip()

    def _collect(self, deadline: float, want: Any) -> dict[str, Any] | None:
        """Read protocol frames until `want(frame)` or the deadline; None on timeout or EOF."""
        assert self._pipes is not None
        decoder = FrameDecoder(self._config.max_frame)
        with selectors.DefaultSelector() as selector:
            selector.register(self._pipes.from_worker, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if not selector.select(left):
                    continue
                data = os.read(self._pipes.from_worker, _CHUNK)
                if not data:
                    return None
                for frame in decoder.feed(data):
                    if want(frame):
                        return frame
        return None


class _CellRun:
    """The event loop of one cell: output capture, frame decoding, the interrupt/kill timeline."""

    def __init__(self, worker: WorkerProcess, request_id: str, timeout: float, cancel: threading.Event) -> None:
        assert worker._pipes is not None
        self.worker, self.pipes, self.id = worker, worker._pipes, request_id
        config = worker._config
        self.out = CappedBuffer(config.output_head, config.output_tail)
        self.err = CappedBuffer(config.output_head, config.output_tail)
        self.decoder = FrameDecoder(config.max_frame)
        self.deadline = time.monotonic() + timeout
        self.kill_at: float | None = None
        self.reason = f"the cell ran longer than the {timeout:g} s timeout"
        self.grace = config.grace
        self.cancel = cancel

    def wait(self) -> CellResult:
        with selectors.DefaultSelector() as selector:
            for fd in (self.pipes.stdout, self.pipes.stderr, self.pipes.from_worker, self.worker._wake_r):
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
        if fd == self.worker._wake_r:
            self.worker._drain_wake()
            return None
        try:
            data = os.read(fd, _CHUNK)
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
                return self._finish(_from_reply(frame, self.reason if self.kill_at else ""))
        return None

    def _signal(self, signum: int) -> None:
        if self.worker._worker_pid:
            with contextlib.suppress(OSError):
                os.kill(self.worker._worker_pid, signum)

    def _crashed(self) -> CellResult:
        proc = self.worker._proc
        code = None
        if proc is not None:
            # bwrap exits with its child's status (128 + signal number when it was killed by a signal).
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.5)
        self.worker.kill()
        return self._finish(CellResult("crashed", detail=_exit_detail(code)))

    def _finish(self, result: CellResult) -> CellResult:
        # Everything the worker wrote before its reply frame is already in the pipes: drain it.
        for fd, buffer in ((self.pipes.stdout, self.out), (self.pipes.stderr, self.err)):
            with contextlib.suppress(OSError):
                while data := os.read(fd, _CHUNK):
                    buffer.feed(data)
        result.stdout, result.stderr = self.out.text(), self.err.text()
        return result


def _exit_detail(code: int | None) -> str:
    if code is None:
        return "the worker stopped answering"
    signum = -code if code < 0 else code - 128 if code > 128 else 0
    if signum:
        with contextlib.suppress(ValueError):
            return f"the worker was killed by {signal.Signals(signum).name}"
    return f"the worker exited with status {code}"


def _from_reply(frame: dict[str, Any], reason: str) -> CellResult:
    """Turn the worker's reply into a result, trusting nothing about its shape."""
    status: Status = "error"
    for known in ("ok", "interrupted", "exit"):
        if frame.get("status") == known:
            status = known
    value, error = frame.get("value"), frame.get("error")
    files = frame.get("files")
    figures = frame.get("figures")
    return CellResult(
        status,
        value=value if isinstance(value, str) else None,
        error=error if isinstance(error, str) else None,
        files=files if isinstance(files, dict) else {},
        figures=[str(f) for f in figures][:50] if isinstance(figures, list) else [],
        detail=(reason or "the cell was interrupted") if status == "interrupted" else "",
    )
