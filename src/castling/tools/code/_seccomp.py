"""A small seccomp-BPF deny list for the sandbox (passed to bwrap with ``--seccomp FD``).

Blocks kernel attack surface a Python cell never needs: ptrace and cross-process memory access, keyrings,
bpf, perf events, userfaultfd, io_uring, mounts, module and kexec loading, handle-based opens. A blocked call
fails with EPERM; a foreign syscall ABI (i386 on x86_64, x32) is refused. Numbers checked against the kernel
headers (``asm/unistd_64.h`` for x86_64, ``asm-generic/unistd.h`` for aarch64).
"""

from __future__ import annotations

import errno
import platform
import struct

_BLOCKED = {  # name: (x86_64, aarch64)
    "ptrace": (101, 117),
    "syslog": (103, 116),
    "pivot_root": (155, 41),
    "acct": (163, 89),
    "mount": (165, 40),
    "umount2": (166, 39),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "reboot": (169, 142),
    "init_module": (175, 105),
    "delete_module": (176, 106),
    "quotactl": (179, 60),
    "kexec_load": (246, 104),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "keyctl": (250, 219),
    "perf_event_open": (298, 241),
    "fanotify_init": (300, 262),
    "name_to_handle_at": (303, 264),
    "open_by_handle_at": (304, 265),
    "setns": (308, 268),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "kcmp": (312, 272),
    "finit_module": (313, 273),
    "kexec_file_load": (320, 294),
    "bpf": (321, 280),
    "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
}
_ARCH = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}  # column in _BLOCKED, AUDIT_ARCH_*

_LD_ABS_W, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW, _KILL_PROCESS, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_X32_BIT = 0x40000000
_FILTER = struct.Struct("=HBBI")


def blocked_syscalls() -> list[str]:
    """Names of the denied system calls."""
    return sorted(_BLOCKED)


def seccomp_program(machine: str | None = None) -> bytes | None:
    """The BPF program for this machine's architecture, or None when the architecture is not supported."""
    arch = _ARCH.get(machine or platform.machine())
    if arch is None:
        return None
    column, audit_arch = arch
    numbers = sorted({numbers[column] for numbers in _BLOCKED.values()})
    checks = [(_JGE, _X32_BIT)] if column == 0 else []
    checks += [(_JEQ, nr) for nr in numbers]
    deny = 4 + len(checks) + 1  # index of the final "return EPERM"
    program = [
        (_LD_ABS_W, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 1, 0, audit_arch),
        (_RET, 0, 0, _KILL_PROCESS),
        (_LD_ABS_W, 0, 0, 0),  # seccomp_data.nr
    ]
    for index, (op, value) in enumerate(checks, start=4):
        program.append((op, deny - index - 1, 0, value))
    program += [(_RET, 0, 0, _ALLOW), (_RET, 0, 0, _ERRNO | errno.EPERM)]
    return b"".join(_FILTER.pack(*instruction) for instruction in program)
