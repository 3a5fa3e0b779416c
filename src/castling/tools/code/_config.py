"""User-facing settings of the `python()` tool."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2}
_UNITS |= {"g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4, "tib": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: int | str) -> int:
    """Turn ``"2GiB"``, ``"512 MB"`` or a number of bytes into bytes."""
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"size must be positive, got {value}")
        return value
    match = _SIZE.match(value)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"cannot read {value!r} as a size; write e.g. '1GiB', '512MiB' or a number of bytes")
    return parse_size(int(float(match.group(1)) * _UNITS[unit]))


class PythonToolConfig(BaseModel):
    """Settings of the sandboxed Python tool; sizes accept ``"1GiB"``-style strings or bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: float = Field(30.0, gt=0)
    """Seconds a cell may run before it is interrupted (SIGINT, state kept)."""
    grace: float = Field(2.0, gt=0)
    """Seconds after the interrupt before the whole sandbox is killed (state lost)."""
    memory: int = 1024**3
    """Memory budget of the whole sandbox: a cgroup's memory.max where one can be made (each process also gets
    RLIMIT_AS = memory), else split into rlimits (see `memory_limit`)."""
    memory_limit: Literal["auto", "cgroup", "rlimit"] = "auto"
    """How `memory` is enforced: ``auto`` = a cgroup when the host allows one, else rlimits; ``cgroup`` = refuse to
    start without one; ``rlimit`` = at most memory // 128 MiB processes and threads of memory / N each."""
    workspace: Path | None = None
    """Host directory mounted read-write at /workspace; None = a private size-capped tmpfs."""
    workspace_size: int = 256 * 1024**2
    """Size of the private /workspace tmpfs (ignored with a host `workspace`)."""
    tmp_size: int = 64 * 1024**2
    """Size of the private /tmp tmpfs."""
    workspace_inodes: int = Field(50_000, ge=64)
    """Files and directories the private /workspace tmpfs may hold (each costs ~1 KiB of host kernel memory)."""
    tmp_inodes: int = Field(20_000, ge=64)
    """Files and directories the private /tmp tmpfs may hold."""
    max_file_size: int = 64 * 1024**2
    """Largest file a cell may write (RLIMIT_FSIZE)."""
    max_processes: int = Field(64, ge=4)
    """Processes and threads the sandbox uid may have (RLIMIT_NPROC)."""
    max_open_files: int = Field(256, ge=16)
    """Open file descriptors per process (RLIMIT_NOFILE)."""
    cpu_seconds: int = Field(3600, gt=0)
    """CPU seconds over a worker's lifetime (RLIMIT_CPU): a backstop, the timeout is the real limit."""
    max_workers: int = Field(8, ge=1)
    """Live workers per tool; starting one more stops the least recently used idle one (its state is lost)."""
    idle_timeout: float | None = Field(3600.0, gt=0)
    """A worker unused for this many seconds is stopped when the tool is next called (None: never)."""
    sandbox: Literal["bwrap", "process"] = "bwrap"
    """``bwrap`` (default, refuses to run without bubblewrap) or ``process``: rlimits only, NOT isolated."""
    python_executable: str = "/usr/bin/python3"
    """Interpreter run in the sandbox; it and its stdlib must be readable by the sandbox uid."""
    extra_ro_binds: tuple[str, ...] = ()
    """More host paths mounted read-only at the same place (e.g. a world-readable venv under /opt)."""
    seccomp: bool = True
    """Deny ptrace, keyctl, bpf, perf_event_open, userfaultfd, io_uring, mount, kexec... (x86_64, aarch64)."""
    bwrap_path: str | None = None
    """Path of bwrap; None = look it up on PATH."""
    sandbox_uid: int = 65534
    """Uid (and gid) the sandbox drops to when the host runs as root."""
    output_head: int = Field(18_000, ge=100)
    """Bytes kept from the start of stdout and of stderr."""
    output_tail: int = Field(2_000, ge=100)
    """Bytes kept from the end of stdout and of stderr."""
    max_frame: int = Field(16 * 1024**2, ge=1024)
    """Largest protocol frame the host accepts from the worker; a bigger length prefix kills the worker."""
    background: bool = False
    """Let processes and threads a cell started keep running between cells. By default the worker's other
    threads are paused (they resume during the next cell) and every other process is killed when a cell ends."""
    start_timeout: float = Field(10.0, gt=0)
    """Seconds a new worker has to report ready."""

    @field_validator("memory", "workspace_size", "tmp_size", "max_file_size", mode="before")
    @classmethod
    def _size(cls, value: int | str) -> int:
        return parse_size(value)
