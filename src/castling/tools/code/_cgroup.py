"""One memory and process budget for the whole sandbox: a cgroup where the host lets us make one.

RLIMIT_AS is per process: 8 forked children x 200 MB ran under memory="256MiB" and took 1.6 GB. So each worker
(bwrap and everything in the sandbox) is moved into its own cgroup, `castling-<host pid>-<random>`, made below
the host process's own cgroup (so enclosing limits still apply): cgroup v2 (memory.max, memory.swap.max=0,
pids.max) or, on a v1/hybrid host, the v1 memory and pids controllers (memory.limit_in_bytes, memsw, pids.max).
When neither can be written (not root, no delegation), `rlimit_budget` splits the budget instead: at most N
processes and threads of memory/N address space each. `describe` says which applies.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "castling-"
SLICE = 128 * 1024**2
"""Without a cgroup: the address space each process gets; the budget allows memory // SLICE processes."""


@dataclass(frozen=True)
class CgroupParents:
    """Where sandbox cgroups are made: one directory per controller (the same one on cgroup v2)."""

    version: int
    memory: Path
    pids: Path


def rlimit_budget(memory: int, max_processes: int) -> tuple[int, int]:
    """(processes, address space each) whose product stays within `memory`, when there is no cgroup."""
    processes = max(1, min(max_processes, memory // SLICE))
    return processes, memory // processes


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup per v1 controller ('' for the v2 hierarchy)."""
    found: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                found[name] = path
    return found


def _mounts() -> list[tuple[str, Path, set[str]]]:
    with open("/proc/self/mounts") as f:
        rows = [line.split() for line in f]
    return [(row[2], Path(row[1]), set(row[3].split(","))) for row in rows if row[2] in ("cgroup", "cgroup2")]


def _writable(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def _v2(mount: Path, own: str) -> CgroupParents | None:
    parent = mount / own.lstrip("/")
    try:
        if not {"memory", "pids"} <= set((parent / "cgroup.controllers").read_text().split()):
            return None
        if not {"memory", "pids"} <= set((parent / "cgroup.subtree_control").read_text().split()):
            # Fails (EBUSY) when the parent holds processes and is not the root: then there is no cgroup for us.
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError:
        return None
    return CgroupParents(2, parent, parent) if _writable(parent) else None


@functools.cache
def find_parents() -> CgroupParents | None:
    """The cgroup directories this host lets us create sandbox cgroups in, or None."""
    try:
        own, mounts = _own_cgroups(), _mounts()
    except (OSError, ValueError):
        return None
    for fstype, mount, _ in mounts:
        if fstype == "cgroup2" and "" in own and (found := _v2(mount, own[""])):
            return found
    v1 = {
        c: mount / own[c].lstrip("/")
        for t, mount, opts in mounts
        for c in ("memory", "pids")
        if t == "cgroup" and c in opts and c in own
    }
    if len(v1) == 2 and all(_writable(path) for path in v1.values()):
        return CgroupParents(1, v1["memory"], v1["pids"])
    return None


def describe(memory: int, max_processes: int, use_cgroup: bool) -> str:
    """How the memory budget is enforced, in one sentence (tool description, README, `PythonTool.limits`)."""
    parents = find_parents() if use_cgroup else None
    if parents is not None:
        return (
            f"{_mib(memory)} of memory for all processes of the sandbox together and at most {max_processes} "
            f"processes (cgroup v{parents.version})"
        )
    processes, each = rlimit_budget(memory, max_processes)
    return (
        f"at most {processes} processes and threads of {_mib(each)} address space each, {_mib(memory)} in total "
        "(rlimits: no writable cgroup on this host)"
    )


def _mib(n: int) -> str:
    return f"{n / 1024**3:g} GiB" if n % 1024**3 == 0 else f"{n // 1024**2} MiB"


class SandboxCgroup:
    """The cgroup (one directory per controller) of one worker; removed when the worker ends."""

    def __init__(self, parents: CgroupParents, memory: int, processes: int) -> None:
        self.parents = parents
        name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.dirs = list(dict.fromkeys([parents.memory / name, parents.pids / name]))
        self.memory_dir, self.pids_dir = parents.memory / name, parents.pids / name
        for parent in dict.fromkeys([parents.memory, parents.pids]):
            _remove_stale(parent)
        for path in self.dirs:
            path.mkdir()
        self._limit(memory, processes)

    def _limit(self, memory: int, processes: int) -> None:
        if self.parents.version == 2:
            (self.memory_dir / "memory.max").write_text(str(memory))
            with contextlib.suppress(OSError):  # no swap accounting on this kernel: nothing to cap
                (self.memory_dir / "memory.swap.max").write_text("0")
        else:
            (self.memory_dir / "memory.limit_in_bytes").write_text(str(memory))
            with contextlib.suppress(OSError):
                (self.memory_dir / "memory.memsw.limit_in_bytes").write_text(str(memory))
        (self.pids_dir / "pids.max").write_text(str(processes))

    def add(self, pid: int) -> None:
        """Move a process (all its threads) into the cgroup; its children are born there."""
        for path in self.dirs:
            (path / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        """Processes the kernel killed so far to keep the sandbox within its memory budget."""
        name = "memory.events" if self.parents.version == 2 else "memory.oom_control"
        try:
            for line in (self.memory_dir / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self) -> None:
        """Kill whatever is left in the cgroup and remove it (called after the worker ended)."""
        for path in self.dirs:
            _kill_and_remove(path)


def _kill_and_remove(path: Path) -> None:
    deadline = time.monotonic() + 2.0
    while path.exists():
        with contextlib.suppress(OSError, ValueError):
            for pid in (path / "cgroup.procs").read_text().split():
                os.kill(int(pid), signal.SIGKILL)
        try:
            path.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                return  # still busy: left for _remove_stale of a later worker
            time.sleep(0.005)


def _remove_stale(parent: Path) -> None:
    """Remove empty sandbox cgroups of host processes that are gone (e.g. killed with SIGKILL)."""
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            owner = entry.name[len(PREFIX) :].split("-")[0]
            if entry.name.startswith(PREFIX) and owner.isdigit() and not Path(f"/proc/{owner}").exists():
                with contextlib.suppress(OSError):
                    entry.rmdir()
