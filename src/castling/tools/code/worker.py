"""The program that runs inside the sandbox: a small REPL driven by framed JSON over two private pipes.

It is standalone (stdlib only, never imports castling): the sandbox sees only the system Python. The host
sends it as a read-only file (bwrap) or as ``-c`` source (process mode). Usage::

    python3 -I -B worker.py IN_FD OUT_FD '<settings json>'

Frames are a 4-byte big-endian length and a UTF-8 JSON object, both directions. Cells write to the real
fds 1 and 2, which the host reads and caps; a reply frame only carries the value, the traceback and the
files a cell touched.
"""

from __future__ import annotations

import _ast
import builtins
import errno
import json
import os
import resource
import signal
import struct
import sys
import time
import types
from typing import Any

HEADER = struct.Struct(">I")
SELF_FILE = globals().get("__file__", "<string>")
MAX_TEXT = 20_000
MAX_FILES = 50
MAX_SCAN = 5_000


def read_exact(fd: int, size: int, read: Any = os.read) -> bytes | None:
    """Read exactly `size` bytes, or None at end of file."""
    chunks: list[bytes] = []
    while size:
        chunk = read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def recv(fd: int, read: Any = os.read) -> dict[str, Any] | None:
    """Read one request frame (the host is trusted, so no size cap here)."""
    header = read_exact(fd, HEADER.size, read)
    if header is None:
        return None
    body = read_exact(fd, HEADER.unpack(header)[0], read)
    return None if body is None else dict(json.loads(body))


def gil_holding_read() -> Any:
    """A read() that keeps the GIL while it blocks, so no thread a cell started runs between cells.

    ctypes.PyDLL does not release the GIL around the call (CDLL and os.read do). Threads of the cell wait for
    the GIL until the next request arrives, and the host can kill the cell's processes knowing nothing in the
    worker forks new ones meanwhile. (A thread of pure machine code that never takes the GIL is not stopped.)
    """
    import ctypes

    libc = ctypes.PyDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(1 << 16)

    def read(fd: int, size: int) -> bytes:
        while True:
            n = libc.read(fd, buffer, min(size, len(buffer)))
            if n >= 0:
                return buffer.raw[:n]
            if ctypes.get_errno() != errno.EINTR:
                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))

    return read


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one frame."""
    body = json.dumps(message).encode()
    data = memoryview(HEADER.pack(len(body)) + body)
    while data:
        data = data[os.write(fd, data) :]


def cap(text: str, limit: int = MAX_TEXT) -> str:
    """Keep the head and the tail of a long text, marking the cut."""
    if len(text) <= limit:
        return text
    tail = limit // 5
    return f"{text[: limit - tail]}\n[... {len(text) - limit} characters cut ...]\n{text[-tail:]}"


def set_limits(limits: dict[str, int]) -> None:
    """Set each rlimit with soft = hard, so user code cannot raise it back."""
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value))


def close_other_fds(keep: set[int]) -> None:
    """Close inherited fds (bwrap's info and data fds) so user code finds nothing but its own."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def other_pids(sandboxed: bool) -> list[int]:
    """Processes left behind by user code (in the sandbox's PID namespace, or in our session)."""
    me, pids = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, me):
            continue
        if not sandboxed:
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) != os.getsid(0):
                continue
        pids.append(int(name))
    return pids


def reap_leftovers(sandboxed: bool) -> None:
    """Kill every process a cell left behind and reap it, so zombies never count against NPROC."""
    deadline = time.monotonic() + 2.0
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        pids = other_pids(sandboxed)
        if not pids or time.monotonic() > deadline:
            return
        if sandboxed:
            # In our own PID namespace -1 means "everything but pid 1 and me": setsid daemons included.
            _kill(-1)
        else:
            for pid in pids:
                _kill(pid)
        time.sleep(0.002)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def snapshot(root: str) -> dict[str, tuple[int, int]]:
    """Map each regular file under `root` to (mtime_ns, size), without following symlinks."""
    found: dict[str, tuple[int, int]] = {}
    stack = [root]
    while stack and len(found) < MAX_SCAN:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                found[os.path.relpath(entry.path, root)] = (st.st_mtime_ns, st.st_size)
    return found


def diff(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Files created, changed and deleted between two snapshots (each list capped)."""
    created = sorted(p for p in after if p not in before)
    changed = sorted(p for p in after if p in before and after[p] != before[p])
    deleted = sorted(p for p in before if p not in after)
    return {
        "created": [[p, after[p][1]] for p in created[:MAX_FILES]],
        "changed": [[p, after[p][1]] for p in changed[:MAX_FILES]],
        "deleted": deleted[:MAX_FILES],
        "more": max(0, len(created) + len(changed) + len(deleted) - 3 * MAX_FILES),
    }


def save_figures(cell: int) -> list[str]:
    """Save open matplotlib figures as PNG files in the workspace and close them."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    paths = []
    for num in plt.get_fignums():
        os.makedirs(".figures", exist_ok=True)
        path = f".figures/cell{cell}-figure{num}.png"
        plt.figure(num).savefig(path)
        paths.append(path)
    plt.close("all")
    return paths


CELL_SOURCES: dict[str, str] = {}


def user_traceback(exc: BaseException) -> str:
    """Format a traceback without the worker's own frames (just the exception if formatting fails)."""
    try:
        import linecache  # imported on first error only: with `re` they would add ~10 ms to every cold start
        import traceback

        for name, code in CELL_SOURCES.items():
            linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == SELF_FILE:
            tb = tb.tb_next
        return cap("".join(traceback.format_exception(type(exc), exc, tb)))
    except Exception:  # e.g. MemoryError, or a user __str__ that raises
        return f"{type(exc).__name__} (traceback unavailable)"


class Repl:
    """The persistent namespace and the cell runner."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.pid = os.getpid()
        self.sandboxed = bool(settings.get("sandboxed", True))
        self.background = bool(settings.get("background", False))
        self.root = os.getcwd()
        self.cells = 0
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = main  # so pickle and multiprocessing find user-defined classes
        self.namespace = main.__dict__
        self.mounts: list[dict[str, Any]] = settings.get("confine", {}).get("tmpfs", [])

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one cell and describe what it did."""
        self.cells += 1
        before = self.files()
        reply = self.run(str(request.get("code", "")))
        self.after_cell(reply)
        reply["files"] = diff(before, self.files())
        reply["limits"] = full_mounts(self.mounts)
        reply["id"] = request.get("id")
        return reply

    def files(self) -> dict[str, tuple[int, int]]:
        try:
            return snapshot(self.root)
        except Exception:  # e.g. EMFILE when a cell keeps every allowed fd open: report no files
            return {}

    def after_cell(self, reply: dict[str, Any]) -> None:
        if os.getpid() != self.pid:
            os._exit(0)  # a child forked by user code must never answer the host
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()  # type: ignore[union-attr]
            except Exception:
                pass
        if not self.background:
            # Children that die from now on are reaped by the kernel: the host kills the rest while we wait.
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            try:
                reap_leftovers(self.sandboxed)
            except Exception:  # the host kills the whole sandbox on timeouts anyway
                pass
        try:
            reply["figures"] = save_figures(self.cells)
        except Exception as exc:
            reply["figures"] = []
            reply["figure_error"] = cap(repr(exc), 2000)

    def run(self, code: str) -> dict[str, Any]:
        name = f"<cell {self.cells}>"
        CELL_SOURCES[name] = code
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # subprocess and os.wait work as usual in a cell
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return self.execute(code, name)
        except KeyboardInterrupt as exc:  # the traceback shows the model where the cell was stuck
            return {"status": "interrupted", "error": user_traceback(exc)}
        except SystemExit as exc:
            return {"status": "exit", "error": cap(f"SystemExit: {exc.code!r}")}
        except BaseException as exc:
            return {"status": "error", "error": user_traceback(exc)}
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    def execute(self, code: str, name: str) -> dict[str, Any]:
        tree = compile(code, name, "exec", _ast.PyCF_ONLY_AST)  # _ast is built in; `ast` costs an import
        assert isinstance(tree, _ast.Module)
        last = None
        if tree.body and isinstance(tail := tree.body[-1], _ast.Expr):
            tree.body.pop()
            last = _ast.Expression(tail.value)
        exec(compile(tree, name, "exec"), self.namespace)
        if last is None:
            return {"status": "ok"}
        value = eval(compile(last, name, "eval"), self.namespace)
        if value is None:
            return {"status": "ok"}
        self.namespace["_"] = value
        return {"status": "ok", "value": cap(repr(value))}


def confine(spec: dict[str, Any]) -> None:
    """Mount the capped tmpfs file systems, drop every capability, install seccomp (confine.py, next to us)."""
    sys.path.insert(0, os.path.dirname(SELF_FILE))
    try:
        import confine as setup  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    setup.apply(spec)


def full_mounts(mounts: list[dict[str, Any]]) -> list[str]:
    """A line for each capped file system a cell filled up, so the model knows why writes fail (ENOSPC)."""
    notes = []
    for mount in mounts:
        try:
            st = os.statvfs(mount["path"])
        except OSError:
            continue
        if st.f_files and st.f_ffree == 0:
            notes.append(
                f"{mount['path']} holds its maximum of {st.f_files} files and directories; "
                "delete some before creating more"
            )
        elif st.f_blocks and st.f_bavail == 0:
            notes.append(f"{mount['path']} is full ({st.f_blocks * st.f_frsize} bytes); delete files to free space")
    return notes


def main() -> None:
    """Set the limits, answer `ready`, then serve cells until the host closes the pipe."""
    in_fd, out_fd, settings = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only a running cell may be interrupted
    if "confine" in settings:
        confine(settings["confine"])
    set_limits({k: int(v) for k, v in settings.get("rlimits", {}).items()})
    close_other_fds({in_fd, out_fd})
    for fd in (in_fd, out_fd):
        os.set_inheritable(fd, False)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    repl = Repl(settings)
    read = os.read if repl.background else gil_holding_read()
    send(out_fd, {"id": "ready", "status": "ready", "python": sys.version.split()[0]})
    while (request := recv(in_fd, read)) is not None:
        try:
            reply = repl.handle(request)
        except KeyboardInterrupt:  # an interrupt that landed just after the cell ended
            reply = {"id": request.get("id"), "status": "interrupted"}
        send(out_fd, reply)
    os._exit(0)


if __name__ == "__main__":
    main()
