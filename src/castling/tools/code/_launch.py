"""Starting a worker: the bwrap command line, the process-mode fallback, and the availability probe."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._cgroup import CgroupParents, find_parents, rlimit_budget
from ._config import PythonToolConfig
from ._seccomp import seccomp_program
from ._workspace import open_workspace
from .errors import INSTALL_HINT, SandboxUnavailable

WORKER_SOURCE = Path(__file__).with_name("worker.py")
CONFINE_SOURCE = Path(__file__).with_name("confine.py")
SANDBOX_WORKER = "/opt/castling/worker.py"
SANDBOX_CONFINE = "/opt/castling/confine.py"
# Inodes of bwrap's /dev/shm: POSIX shared memory and semaphores need only a few.
SHM_SIZE, SHM_INODES = 16 * 1024**2, 1024
# Capabilities the worker holds *inside its user namespace* only until confine.py has mounted its capped
# tmpfs file systems; it then drops them all (bwrap 0.8 cannot set nr_inodes itself).
SETUP_CAPS = ("CAP_SYS_ADMIN", "CAP_SETPCAP")
SANDBOX_HOME = "/workspace"
# Pin BLAS threads and glibc arenas: threads count against NPROC and arenas reserve address space (RLIMIT_AS).
SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    # Caches (matplotlib's font list...) go to /tmp, so they don't show up as files the cell created.
    "MPLCONFIGDIR": "/tmp/.config/matplotlib",
    "XDG_CACHE_HOME": "/tmp/.cache",
    "XDG_CONFIG_HOME": "/tmp/.config",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
    "TMPDIR": "/tmp",
}
# The only host /etc entries the sandbox sees: harmless files libraries need (Debian resolves libblas for numpy
# through /etc/alternatives and ships matplotlib's rc file as /etc/matplotlibrc).
ETC_ALLOWED = ("localtime", "alternatives", "matplotlibrc", "fonts", "mime.types")
# bwrap's own environment shows up in the sandbox's /proc/1/environ even with --clearenv: keep it minimal.
HOST_ENV = {"PATH": "/usr/bin:/bin"}


@dataclass
class Pipes:
    """The host's ends of a worker's pipes and the fds handed to the child."""

    to_worker: int
    from_worker: int
    stdout: int
    stderr: int
    stdout_w: int
    stderr_w: int
    worker_in: int
    worker_out: int

    @property
    def child_fds(self) -> list[int]:
        """The protocol fds the worker inherits."""
        return [self.worker_in, self.worker_out]


def find_bwrap(config: PythonToolConfig) -> str:
    """The bwrap binary, or SandboxUnavailable saying how to install it."""
    path = config.bwrap_path or shutil.which("bwrap")
    if not path or not os.access(path, os.X_OK):
        raise SandboxUnavailable(f"bubblewrap (bwrap) was not found. {INSTALL_HINT}")
    return path


def drops_privileges() -> bool:
    """Whether the sandbox must switch to a dedicated uid: as root, bwrap would ignore RLIMIT_NPROC."""
    return os.geteuid() == 0


def cgroup_parents(config: PythonToolConfig) -> CgroupParents | None:
    """Where this tool's sandbox cgroups go, or None when the budget is enforced with rlimits."""
    return None if config.memory_limit == "rlimit" else find_parents()


def rlimits(config: PythonToolConfig) -> dict[str, int]:
    """The limits the worker sets on itself (inside the user namespace, so NPROC counts only sandbox processes).

    Without a cgroup, processes x address space must stay within the memory budget.
    """
    processes, memory = config.max_processes, config.memory
    if cgroup_parents(config) is None:
        processes, memory = rlimit_budget(config.memory, config.max_processes)
    return {
        "AS": memory,
        "NPROC": processes,
        "FSIZE": config.max_file_size,
        "NOFILE": config.max_open_files,
        "CORE": 0,
        "CPU": config.cpu_seconds,
    }


def confine_spec(config: PythonToolConfig) -> dict[str, Any]:
    """What confine.py sets up in the sandbox before any user code: capped tmpfs mounts, read-only /dev, seccomp."""
    tmpfs = [
        {"path": "/dev/shm", "size": SHM_SIZE, "inodes": SHM_INODES, "mode": "755"},
        {"path": "/tmp", "size": config.tmp_size, "inodes": config.tmp_inodes, "mode": "755"},
    ]
    if config.workspace is None:
        tmpfs.append(
            {"path": SANDBOX_HOME, "size": config.workspace_size, "inodes": config.workspace_inodes, "mode": "755"}
        )
    tops = [str(m["path"]) for m in tmpfs]
    hidden = [p for p in config.extra_ro_binds if any(_under(os.path.normpath(p), t) for t in tops)]
    program = seccomp_program() if config.seccomp else None
    return {"tmpfs": tmpfs, "rebind": hidden, "readonly": ["/dev"], "seccomp": program.hex() if program else ""}


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


def bwrap_argv(
    bwrap: str, config: PythonToolConfig, *, source_fd: int, passwd_fd: int, confine_fd: int, workspace_fd: int = -1
) -> list[str]:
    """The bubblewrap command line, following the reference design (all namespaces, read-only system).

    The writable file systems are mounted, and the seccomp filter installed, by confine.py inside the sandbox.
    A host workspace is bound from `workspace_fd` (see `_workspace.open_workspace`), never by path.
    """
    argv = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]
    # No bwrap reaper as PID 1: when the command exits by itself, bwrap's outer process exits as soon as the
    # reaper reports the status, without waiting for it, so the reaper lingered as a defunct `bwrap` orphaned
    # to the host's init (one per availability probe, and per worker that crashed). As PID 1 the worker
    # reaps its own leftovers after every cell anyway.
    argv += ["--as-pid-1"]
    for cap in SETUP_CAPS:
        argv += ["--cap-add", cap]
    argv += ["--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink(f"/{name}"):
            argv += ["--symlink", f"usr/{name}", f"/{name}"]
        elif os.path.isdir(f"/{name}"):
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
    argv += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for name in ETC_ALLOWED:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    argv += ["--ro-bind-data", str(passwd_fd), "/etc/passwd"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--dir", "/dev/shm", "--dir", "/tmp"]
    if config.workspace is None:
        argv += ["--dir", SANDBOX_HOME]
    else:
        argv += ["--bind-fd", str(workspace_fd), SANDBOX_HOME]
    for path in config.extra_ro_binds:
        argv += ["--ro-bind", path, path]
    argv += ["--ro-bind-data", str(source_fd), SANDBOX_WORKER, "--ro-bind-data", str(confine_fd), SANDBOX_CONFINE]
    argv += ["--remount-ro", "/", "--chdir", SANDBOX_HOME]
    argv += ["--clearenv", "--setenv", "HOME", SANDBOX_HOME]
    for key, value in SANDBOX_ENV.items():
        argv += ["--setenv", key, value]
    return argv


def worker_args(config: PythonToolConfig, pipes: Pipes, *, sandboxed: bool) -> list[str]:
    """The worker's own arguments: protocol fds and settings."""
    settings: dict[str, Any] = {"rlimits": rlimits(config), "sandboxed": sandboxed, "background": config.background}
    if sandboxed:
        settings["confine"] = confine_spec(config)
    return [str(pipes.worker_in), str(pipes.worker_out), json.dumps(settings)]


def memfd(name: str, data: bytes) -> int:
    """An in-memory file holding `data`, positioned at 0 (bwrap copies it into the sandbox)."""
    fd = os.memfd_create(name)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def passwd_line(uid: int) -> bytes:
    """A synthetic /etc/passwd that names only the sandbox user."""
    return f"sandbox:x:{uid}:{uid}:sandbox:{SANDBOX_HOME}:/bin/false\n".encode()


@dataclass(frozen=True)
class Identity:
    """Popen's user/group/extra_groups: a root host drops to the sandbox uid before anything else runs."""

    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None


def sandbox_identity(uid: int | None) -> Identity:
    """The identity to spawn with (None: stay who we are)."""
    return Identity() if uid is None else Identity(uid, uid, [])


def spawn_uid(config: PythonToolConfig) -> int | None:
    """The uid to drop to, or None when the host is not root."""
    return config.sandbox_uid if drops_privileges() else None


@functools.lru_cache(maxsize=8)
def _probe(bwrap: str, config: PythonToolConfig, as_uid: int | None) -> str:
    """Start a sandbox with these settings once and run the real setup (mounts, capability drop, seccomp) in it.

    Returns '' when it works, else bwrap's or confine.py's complaint.
    """
    python = config.python_executable
    fds = [memfd("passwd", b""), memfd("probe", b""), memfd("confine", CONFINE_SOURCE.read_bytes())]
    if config.workspace is not None:
        fds.append(open_workspace(config.workspace, config.sandbox_uid))
    argv = bwrap_argv(bwrap, config, source_fd=fds[1], passwd_fd=fds[0], confine_fd=fds[2], workspace_fd=fds[-1])
    who = sandbox_identity(as_uid)
    try:
        done = subprocess.run(
            [*argv, python, "-I", "-B", SANDBOX_CONFINE, json.dumps(confine_spec(config))],
            env=HOST_ENV,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            pass_fds=fds,
            timeout=30,
            user=who.user,
            group=who.group,
            extra_groups=who.extra_groups,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        for fd in fds:
            os.close(fd)
    return "" if done.returncode == 0 else done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"


def check_bwrap(config: PythonToolConfig) -> None:
    """Raise SandboxUnavailable unless bwrap can really start a sandbox here (user namespaces may be blocked)."""
    bwrap = find_bwrap(config)
    if config.memory_limit == "cgroup" and find_parents() is None:
        raise SandboxUnavailable(
            "memory_limit='cgroup' but no cgroup can be made here (needs a writable cgroup v2 with the memory "
            "and pids controllers, or cgroup v1 memory and pids, usually root); use memory_limit='auto'"
        )
    if not os.access(config.python_executable, os.X_OK):
        raise SandboxUnavailable(f"the sandbox interpreter {config.python_executable} does not exist")
    problem = _probe(bwrap, config, spawn_uid(config))
    if problem:
        raise SandboxUnavailable(
            f"bubblewrap is installed but cannot start a sandbox here: {problem}. "
            "Common causes: user namespaces disabled (sysctl kernel.unprivileged_userns_clone / "
            "kernel.apparmor_restrict_unprivileged_userns) or a container's seccomp profile. "
            f"The interpreter {config.python_executable} must be readable by uid {config.sandbox_uid}."
        )
