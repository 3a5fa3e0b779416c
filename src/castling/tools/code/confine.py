"""First steps of the sandboxed worker: its own tmpfs mounts with inode caps, then no privileges left.

Standalone (stdlib only, runs inside the sandbox before any user code). bubblewrap 0.8 can size a tmpfs
(``--size``) but not cap its inodes, and each inode costs ~1 KiB of unswappable host kernel memory: a cell
created 250k empty files in 2.5 s (≈250 MB of host slab). So bwrap starts the worker with CAP_SYS_ADMIN and
CAP_SETPCAP *inside its user namespace* (``--cap-add``), and this module:

1. unshares a mount namespace (bwrap's is owned by its outer user namespace, so mounting there is refused),
2. mounts each writable tmpfs with ``size=`` and ``nr_inodes=`` and remounts bwrap's ``/dev`` read-only (it is
   a tmpfs without any size or inode cap that the sandbox uid could otherwise fill),
   and binds `extra_ro_binds` that lie under those mount points again (read-only), so they stay visible,
3. drops every capability (bounding, ambient, permitted, effective, inheritable) and checks they are gone,
4. installs the seccomp filter (which denies mount, so it must come after the mounts).

Any failure raises: the worker then exits before saying ready and the host reports that the sandbox did not
start (fail closed).
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 0x4000
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAP_AMBIENT = 24, 38, 22, 47
PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 4, 2
CAP_VERSION_3 = 0x20080522


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"sandbox setup: {what}: {os.strerror(errno)}")


def mount_tmpfs(path: str, size: int, inodes: int, mode: str) -> None:
    """Mount a private tmpfs capped in bytes and in inodes (files + directories), owned by us."""
    options = f"size={size},nr_inodes={inodes},mode={mode},uid={os.getuid()},gid={os.getgid()}"
    _check(_libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode()), f"mount {path}")


def remount_readonly(path: str) -> None:
    """Make an existing mount read-only (its device nodes, separate bind mounts, stay usable)."""
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    _check(_libc.mount(None, path.encode(), None, flags, None), f"remount {path} read-only")


def drop_capabilities() -> None:
    """Drop every capability for good and check that none is left."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap} from the bounding set")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    header, data = _CapHeader(CAP_VERSION_3, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    left = capabilities()
    if any(left.values()):
        raise OSError(f"sandbox setup: capabilities left after dropping them: {left}")


def capabilities() -> dict[str, int]:
    """The Cap* masks of this process, from /proc/self/status."""
    with open("/proc/self/status") as f:
        lines = [line.split(":") for line in f if line.startswith("Cap")]
    return {name: int(value.strip(), 16) for name, value in lines}


def install_seccomp(program: bytes) -> None:
    """Install a classic BPF seccomp filter (8-byte sock_filter entries) on this process and its children."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp filter")


def rebind_readonly(fd: int, path: str) -> None:
    """Mount what `fd` (an O_PATH handle to a read-only bind made by bwrap) refers to at `path` again, read-only.

    Used for `extra_ro_binds` under /tmp or /workspace, which the new tmpfs mounts would otherwise hide.
    """
    if os.path.isdir(f"/proc/self/fd/{fd}"):
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
    _check(_libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None), f"bind {path}")
    remount_readonly(path)
    os.close(fd)


def apply(spec: dict[str, Any]) -> None:
    """Run the setup described by the host: mounts, capability drop, seccomp."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare the mount namespace")
    kept = [(os.open(str(path), os.O_PATH), str(path)) for path in spec.get("rebind", [])]
    for mount in spec.get("tmpfs", []):
        mount_tmpfs(str(mount["path"]), int(mount["size"]), int(mount["inodes"]), str(mount["mode"]))
    for fd, path in kept:
        rebind_readonly(fd, path)
    for path in spec.get("readonly", []):
        remount_readonly(str(path))
    os.chdir(os.getcwd())  # bwrap's --chdir left us in the directory now hidden under the new /workspace mount
    drop_capabilities()
    if spec.get("seccomp"):
        install_seccomp(bytes.fromhex(str(spec["seccomp"])))


if __name__ == "__main__":  # the availability probe: python3 confine.py '<spec json>'
    import json
    import sys

    apply(json.loads(sys.argv[1]))
