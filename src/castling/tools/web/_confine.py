"""Confinement of the extraction worker, which parses hostile HTML and PDF.

Standalone (stdlib only): the worker imports it as a sibling script module, the host builds the filters with it.
The worker gets no network and cannot start programs (a seccomp filter denying `socket`, `execve` and
`execveat`, on top of the code sandbox's deny list of kernel attack surface), cannot raise its resource limits,
writes no files and dumps no core. It is not a bubblewrap sandbox: it can still read what its uid can read.
"""

from __future__ import annotations

import ctypes
import platform
import resource
import signal
import struct
from typing import Any

_NO_NETWORK_NO_EXEC = {"socket": (41, 198), "execve": (59, 221), "execveat": (322, 281)}  # (x86_64, aarch64)
_ARCH = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}  # column above, AUDIT_ARCH_*
_LD_ABS_W, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_X32_BIT = 0x40000000
_ALLOW, _KILL_PROCESS, _ERRNO_EPERM = 0x7FFF0000, 0x80000000, 0x00050000 | 1
_FILTER = struct.Struct("=HBBI")
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
LIMITS = {
    "RLIMIT_AS": 2 << 30,  # address space: a decompression or parser blow-up fails with MemoryError
    "RLIMIT_CORE": 0,
    "RLIMIT_FSIZE": 0,  # the worker writes only to its pipes
    "RLIMIT_NOFILE": 64,
}


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_program(machine: str | None = None) -> bytes | None:
    """BPF that fails `socket`, `execve` and `execveat` with EPERM; None on an architecture we do not know."""
    arch = _ARCH.get(machine or platform.machine())
    if arch is None:
        return None
    column, audit_arch = arch
    checks = [(_JGE, _X32_BIT)] if column == 0 else []  # x32 system calls on x86_64: deny them all
    checks += [(_JEQ, pair[column]) for pair in _NO_NETWORK_NO_EXEC.values()]
    program = [(_LD_ABS_W, 0, 0, 4), (_JEQ, 1, 0, audit_arch), (_RET, 0, 0, _KILL_PROCESS), (_LD_ABS_W, 0, 0, 0)]
    for index, (op, value) in enumerate(checks):
        program.append((op, len(checks) - index, 0, value))  # on a match, jump to the final "deny"
    program += [(_RET, 0, 0, _ALLOW), (_RET, 0, 0, _ERRNO_EPERM)]
    return b"".join(_FILTER.pack(*instruction) for instruction in program)


def limit_resources() -> None:
    """Lower every limit in `LIMITS`, soft and hard, so the worker cannot raise them back."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past RLIMIT_FSIZE then fails instead of killing us
    for name, value in LIMITS.items():
        limit = getattr(resource, name)
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


def install_filters(programs: list[bytes]) -> None:
    """Set no_new_privs and install each seccomp program (they stack: the strictest answer wins)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    for program in programs:
        buffer = ctypes.create_string_buffer(program, len(program))
        fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def confine(spec: dict[str, Any]) -> list[str]:
    """Apply what the host asked for; returns what was applied (the host logs what was not)."""
    applied = []
    try:
        limit_resources()
        applied.append("rlimits")
    except (OSError, ValueError):
        pass
    programs = [bytes.fromhex(program) for program in spec.get("seccomp", [])]
    if programs:
        try:
            install_filters(programs)
            applied.append("seccomp")
        except (OSError, AttributeError):  # not Linux, or seccomp not permitted here
            pass
    return applied
