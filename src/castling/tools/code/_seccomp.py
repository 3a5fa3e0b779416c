"""A small seccomp-BPF deny list for the sandbox (passed to bwrap with ``--seccomp FD``).

Blocks kernel attack surface a Python cell never needs: ptrace and cross-process memory access, keyrings,
bpf, perf events, userfaultfd, io_uring, mounts, module and kexec loading, handle-based opens. A blocked call
fails with EPERM; a foreign syscall ABI (i386 on x86_64, x32) is refused. ``socket`` and ``socketpair`` work only
for AF_UNIX, AF_INET and AF_INET6 (inside the sandbox's empty network namespace); any other family fails with
EAFNOSUPPORT: AF_VSOCK is not separated by network namespaces (a sandbox on a VM could reach the hypervisor side),
and AF_PACKET, AF_NETLINK, AF_ALG... are kernel attack surface a cell never needs. Numbers checked against the
kernel headers (``asm/unistd_64.h`` for x86_64, ``asm-generic/unistd.h`` for aarch64).
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
_SOCKET_CALLS = {"socket": (41, 198), "socketpair": (53, 199)}  # first argument: the address family
SOCKET_FAMILIES = {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10}
_ARCH = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}  # column in _BLOCKED, AUDIT_ARCH_*

_LD_ABS_W, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW, _KILL_PROCESS, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_X32_BIT = 0x40000000
_ARG0_LOW = 16  # offsetof(struct seccomp_data, args[0]); the family is an int (low word, little-endian)
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
    blocked = sorted({numbers[column] for numbers in _BLOCKED.values()})
    sockets = sorted(numbers[column] for numbers in _SOCKET_CALLS.values())
    # (opcode, jump-if-true label, value); labels are resolved to relative offsets below.
    code: list[tuple[int, str, int]] = [(_JGE, "deny", _X32_BIT)] if column == 0 else []
    code += [(_JEQ, "family", nr) for nr in sockets] + [(_JEQ, "deny", nr) for nr in blocked]
    code += [(_RET, "", _ALLOW), (_RET, "deny", _ERRNO | errno.EPERM)]
    code += [(_LD_ABS_W, "family", _ARG0_LOW)]
    code += [(_JEQ, "allow", family) for family in sorted(SOCKET_FAMILIES.values())]
    code += [(_RET, "", _ERRNO | errno.EAFNOSUPPORT), (_RET, "allow", _ALLOW)]
    program = [
        (_LD_ABS_W, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 1, 0, audit_arch),
        (_RET, 0, 0, _KILL_PROCESS),
        (_LD_ABS_W, 0, 0, 0),  # seccomp_data.nr
    ]
    program += _resolve(code)
    return b"".join(_FILTER.pack(*instruction) for instruction in program)


def _resolve(code: list[tuple[int, str, int]]) -> list[tuple[int, int, int, int]]:
    """Turn labelled jumps into BPF's relative offsets. A RET or LD names the label it defines."""
    jumps = (_JEQ, _JGE)
    labels = {label: index for index, (op, label, _) in enumerate(code) if op not in jumps and label}
    return [
        (op, labels[label] - index - 1, 0, value) if op in jumps else (op, 0, 0, value)
        for index, (op, label, value) in enumerate(code)
    ]
