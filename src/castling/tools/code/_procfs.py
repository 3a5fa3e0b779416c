"""What the host reads about sandbox processes from /proc: children, descendants, what a process waits in."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import time

# read(2)'s number per architecture, as /proc/PID/syscall shows it.
_READ_NR = {"x86_64": 0, "aarch64": 63}.get(platform.machine())


def children(pid: int) -> list[int]:
    """Direct children of `pid` (of every thread of it)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(p) for p in f.read().split()]
    return found


def live_descendants(pid: int) -> list[int]:
    """Every process below `pid` that is not a zombie (in a PID namespace, orphans are re-parented to its init)."""
    found, stack = [], children(pid)
    while stack:
        child = stack.pop()
        stack += children(child)
        if not _zombie(child):
            found.append(child)
    return found


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True  # gone


def waits_in_read(pid: int, fd: int) -> bool | None:
    """Whether `pid`'s main thread is blocked in read(fd); None when /proc does not tell us."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            fields = f.read().split()
    except OSError:
        return None
    if _READ_NR is None:
        return None
    return len(fields) > 1 and fields[0] == str(_READ_NR) and int(fields[1], 16) == fd


def kill_descendants(pid: int, fd: int, *, wait: float = 1.0) -> int:
    """Kill every process below `pid` once `pid` is blocked reading `fd` (so it forks nothing meanwhile).

    Returns how many processes were killed.
    """
    deadline = time.monotonic() + wait
    while waits_in_read(pid, fd) is False and time.monotonic() < deadline:
        time.sleep(0.0002)
    killed: set[int] = set()
    while (pids := live_descendants(pid)) and time.monotonic() < deadline:
        for child in pids:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
        killed.update(pids)
        time.sleep(0.0005)  # SIGKILL takes effect asynchronously; processes may still be exiting
    return len(killed)
