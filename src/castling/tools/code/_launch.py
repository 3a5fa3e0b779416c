"""Starting a worker: the bwrap command line, the process-mode fallback, and the availability probe."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ._config import PythonToolConfig
from ._seccomp import seccomp_program
from .errors import INSTALL_HINT, SandboxUnavailable

WORKER_SOURCE = Path(__file__).with_name("worker.py")
SANDBOX_WORKER = "/opt/castling/worker.py"
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


def rlimits(config: PythonToolConfig) -> dict[str, int]:
    """The limits the worker sets on itself (inside the user namespace, so NPROC counts only sandbox processes)."""
    return {
        "AS": config.memory,
        "NPROC": config.max_processes,
        "FSIZE": config.max_file_size,
        "NOFILE": config.max_open_files,
        "CORE": 0,
        "CPU": config.cpu_seconds,
    }


def bwrap_argv(
    bwrap: str, config: PythonToolConfig, *, source_fd: int, passwd_fd: int, seccomp_fd: int | None = None
) -> list[str]:
    """The bubblewrap command line, following the reference design (all namespaces, read-only system)."""
    argv = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
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
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(16 * 1024**2), "--tmpfs", "/dev/shm"]
    argv += ["--size", str(config.tmp_size), "--tmpfs", "/tmp"]
    if config.workspace is None:
        argv += ["--size", str(config.workspace_size), "--tmpfs", SANDBOX_HOME]
    else:
        argv += ["--bind", str(config.workspace.resolve()), SANDBOX_HOME]
    for path in config.extra_ro_binds:
        argv += ["--ro-bind", path, path]
    argv += ["--ro-bind-data", str(source_fd), SANDBOX_WORKER, "--remount-ro", "/", "--chdir", SANDBOX_HOME]
    argv += ["--clearenv", "--setenv", "HOME", SANDBOX_HOME]
    for key, value in SANDBOX_ENV.items():
        argv += ["--setenv", key, value]
    return argv


def worker_args(config: PythonToolConfig, pipes: Pipes, *, sandboxed: bool) -> list[str]:
    """The worker's own arguments: protocol fds and settings."""
    settings = {"rlimits": rlimits(config), "sandboxed": sandboxed}
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
    """Run a trivial sandbox with these settings once; return '' when it works, else bwrap's complaint."""
    python = config.python_executable
    program = seccomp_program() if config.seccomp else None
    fds = [memfd("passwd", b""), memfd("probe", b"")] + ([memfd("seccomp", program)] if program else [])
    seccomp_fd = fds[2] if program else None
    argv = bwrap_argv(bwrap, config, source_fd=fds[1], passwd_fd=fds[0], seccomp_fd=seccomp_fd)
    who = sandbox_identity(as_uid)
    try:
        done = subprocess.run(
            [*argv, python, "-I", "-c", "pass"],
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
