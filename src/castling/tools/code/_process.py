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

from castling.errors import ConfigError

from ._cell import CHUNK, CellRun, drain
from ._cgroup import SandboxCgroup
from ._config import PythonToolConfig
from ._launch import (
    CONFINE_SOURCE,
    HOST_ENV,
    SANDBOX_WORKER,
    WORKER_SOURCE,
    Pipes,
    bwrap_argv,
    cgroup_parents,
    find_bwrap,
    memfd,
    passwd_line,
    sandbox_identity,
    spawn_uid,
    worker_args,
)
from ._output import CappedBuffer, CellResult
from ._procfs import children, kill_descendants
from ._protocol import FrameDecoder, encode
from ._spawner import call_in_spawner
from ._workspace import open_workspace

_PIPE_SIZE = 1 << 20


class WorkerStartError(RuntimeError):
    """A new worker did not come up."""


def _pipe() -> tuple[int, int]:
    r, w = os.pipe()
    with contextlib.suppress(OSError):  # a bigger pipe means fewer wake-ups during an output flood
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    return r, w


class WorkerProcess:
    """A persistent interpreter in a sandbox (or, opted in, a plain process)."""

    def __init__(self, config: PythonToolConfig, workdir: str | None) -> None:
        self.config = config
        self._workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.pipes: Pipes | None = None
        self.worker_pid = 0
        self.wake_fd, self._wake_w = os.pipe()
        self._dead = False
        self._cgroup: SandboxCgroup | None = None
        self._final_oom_kills = 0

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the worker and wait for its ready frame."""
        pipes = self._make_pipes()
        self.pipes = pipes
        sandboxed = self.config.sandbox == "bwrap"
        data_fds: list[int] = []
        who = sandbox_identity(spawn_uid(self.config))
        try:
            if sandboxed:
                argv, data_fds = self._bwrap_command(pipes)
            else:
                source = WORKER_SOURCE.read_text()
                argv = [self.config.python_executable, "-I", "-B", "-c", source]
            argv += worker_args(self.config, pipes, sandboxed=sandboxed)
            self.proc = call_in_spawner(
                lambda: subprocess.Popen(
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
            )
        finally:
            for fd in [*pipes.child_fds, pipes.stdout_w, pipes.stderr_w, *data_fds]:
                os.close(fd)
        self._await_ready()
        self._enter_cgroup()

    def _enter_cgroup(self) -> None:
        """Move bwrap and the worker into a fresh cgroup: one memory and pids budget for the whole sandbox.

        Done after `ready` (no user code has run yet); if it fails the worker is killed, as its rlimits assumed it.
        """
        parents = cgroup_parents(self.config)
        if parents is None or self.proc is None:
            return
        try:
            self._cgroup = SandboxCgroup(parents, self.config.memory, self.config.max_processes + 1)
            for pid in dict.fromkeys([self.proc.pid, self.worker_pid]):
                self._cgroup.add(pid)
        except OSError as exc:
            self.kill()
            raise WorkerStartError(f"could not put the sandbox in its own cgroup: {exc}") from exc

    def oom_kills(self) -> int:
        """Processes of this sandbox the kernel killed for going over the memory budget (0 without a cgroup)."""
        return self._cgroup.oom_kills() if self._cgroup is not None else self._final_oom_kills

    def _make_pipes(self) -> Pipes:
        worker_in, to_worker = os.pipe()
        from_worker, worker_out = _pipe()
        stdout, stdout_w = _pipe()
        stderr, stderr_w = _pipe()
        for fd in (from_worker, stdout, stderr):
            os.set_blocking(fd, False)
        return Pipes(to_worker, from_worker, stdout, stderr, stdout_w, stderr_w, worker_in, worker_out)

    def _bwrap_command(self, pipes: Pipes) -> tuple[list[str], list[int]]:
        uid = self.config.sandbox_uid if os.geteuid() == 0 else os.getuid()
        bwrap = find_bwrap(self.config)
        fds = [memfd("castling-worker", WORKER_SOURCE.read_bytes()), memfd("castling-passwd", passwd_line(uid))]
        fds.append(memfd("castling-confine", CONFINE_SOURCE.read_bytes()))
        if self.config.workspace is not None:
            fds.append(self._workspace_fd(fds))
        argv = bwrap_argv(
            bwrap, self.config, source_fd=fds[0], passwd_fd=fds[1], confine_fd=fds[2], workspace_fd=fds[-1]
        )
        return [*argv, self.config.python_executable, "-I", "-B", SANDBOX_WORKER], fds

    def _workspace_fd(self, opened: list[int]) -> int:
        """The host workspace, checked again at every start: a sandbox may have planted a symlink since."""
        assert self.config.workspace is not None
        try:
            return open_workspace(self.config.workspace, self.config.sandbox_uid)
        except ConfigError as exc:
            for fd in opened:
                os.close(fd)
            raise WorkerStartError(str(exc)) from exc

    def _process_env(self) -> dict[str, str]:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg"}
        env |= {"HOME": self._workdir or "/", "TMPDIR": self._workdir or "/tmp"}
        return env

    def _await_ready(self) -> None:
        deadline = time.monotonic() + self.config.start_timeout
        frames = self._collect(deadline, lambda frame: frame.get("id") == "ready")
        if frames is None:
            stderr = self._drain_text()
            self.kill()
            raise WorkerStartError(f"the sandbox did not start: {stderr or 'no ready message'}")
        self.worker_pid = self._find_worker_pid()

    def _find_worker_pid(self) -> int:
        assert self.proc is not None
        if self.config.sandbox != "bwrap":
            return self.proc.pid
        # bwrap --as-pid-1 -> worker: the worker is bwrap's only child (and the PID namespace's init).
        found = children(self.proc.pid)
        return found[0] if found else 0

    @property
    def alive(self) -> bool:
        return not self._dead and self.proc is not None and self.proc.poll() is None

    def wake(self) -> None:
        """Wake a running cell's loop so it notices its cancel event (thread-safe)."""
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    def kill(self) -> None:
        """Kill the whole sandbox (every process in it) and reap bwrap."""
        self._dead = True
        if self.proc is None:
            return
        # Killing the PID namespace's init (the worker, run --as-pid-1) takes every process in the namespace
        # with it. Only while bwrap is unreaped: afterwards its pid, and its children's, may belong to someone
        # else. bwrap then reaps the init and exits by itself; killing bwrap at the same time would leave the
        # init to the host's pid 1 as a zombie.
        if self.config.sandbox == "bwrap" and self.proc.poll() is None:
            for pid in children(self.proc.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=1)
        with contextlib.suppress(OSError):  # a process group id is not reused while the group has members
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        if self._cgroup is not None:
            self._final_oom_kills = self._cgroup.oom_kills()  # still reported for a worker the kernel killed
            self._cgroup.remove()
            self._cgroup = None

    def stop_stragglers(self) -> None:
        """Kill every process of the sandbox but the worker, once the worker waits for the next cell.

        The worker then holds the GIL (see worker.gil_holding_read), so a thread of the cell cannot fork again.
        """
        if self.worker_pid and self.pipes is not None:
            kill_descendants(self.worker_pid, self.pipes.worker_in)

    def close(self) -> None:
        """Kill the worker and release every fd."""
        self.kill()
        fds = [self.wake_fd, self._wake_w]
        if self.pipes is not None:
            fds += [self.pipes.to_worker, self.pipes.from_worker, self.pipes.stdout, self.pipes.stderr]
            self.pipes = None
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- running a cell ------------------------------------------------------------------------------------
    def run(self, code: str, *, timeout: float, cancel: threading.Event) -> CellResult:
        """Run one cell: SIGINT at `timeout` or when `cancel` is set, kill after the grace period."""
        assert self.pipes is not None
        request_id = secrets.token_hex(8)
        self.drain_wake()
        try:
            self._send({"id": request_id, "op": "run", "code": code})
        except OSError as exc:
            self.kill()
            return CellResult("crashed", detail=f"could not send the cell: {exc}")
        return CellRun(self, request_id, timeout, cancel).wait()

    def _send(self, message: dict[str, Any]) -> None:
        assert self.pipes is not None
        data = memoryview(encode(message))
        while data:
            data = data[os.write(self.pipes.to_worker, data) :]

    def drain_wake(self) -> None:
        os.set_blocking(self.wake_fd, False)
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake_fd, 4096):
                pass

    def _drain_text(self) -> str:
        assert self.pipes is not None
        buffer = CappedBuffer(2000, 500)
        drain(self.pipes.stdout, buffer)
        drain(self.pipes.stderr, buffer)
        return buffer.text().strip()

    def _collect(self, deadline: float, want: Any) -> dict[str, Any] | None:
        """Read protocol frames until `want(frame)` or the deadline; None on timeout or EOF."""
        assert self.pipes is not None
        decoder = FrameDecoder(self.config.max_frame)
        with selectors.DefaultSelector() as selector:
            selector.register(self.pipes.from_worker, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if not selector.select(left):
                    continue
                data = os.read(self.pipes.from_worker, CHUNK)
                if not data:
                    return None
                for frame in decoder.feed(data):
                    if want(frame):
                        return frame
        return None
