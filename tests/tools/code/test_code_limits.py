"""Inode caps, a read-only /dev, no capabilities left, worker eviction (LRU and idle) and no orphaned bwrap."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from castling.tools.code import PythonTool, python

from .code_helpers import FAST, require_bwrap, run_cell

FILL = """
import errno, os
n = 0
try:
    while True:
        ({make})(os.path.join({where!r}, f"f{{n}}")); n += 1
except OSError as exc:
    print(n, errno.errorcode[exc.errno])
"""


@pytest.fixture
async def capped() -> AsyncIterator[PythonTool]:
    require_bwrap()
    tool = python(**FAST, tmp_inodes=300, workspace_inodes=400)
    yield tool
    await tool.aclose()


@pytest.mark.parametrize(
    ("where", "make", "cap"),
    [("/tmp", "lambda p: open(p, 'w').close()", 300), ("/workspace", "os.mkdir", 400), ("/dev/shm", "os.mkdir", 1024)],
)
async def test_creating_files_in_a_loop_stops_at_the_inode_cap_and_the_session_keeps_working(
    capped: PythonTool, where: str, make: str, cap: int
) -> None:
    assert await run_cell(capped, "x = 6") == "[done] no output"
    out = await run_cell(capped, FILL.format(make=make, where=where))
    count, code = out.split("\n")[1].split()
    assert code == "ENOSPC" and 0 < int(count) < cap  # the root directory is an inode too
    assert f"[limit] {where} holds its maximum of {cap} files and directories; delete some" in out
    # The interpreter survived with its state, and freeing inodes makes room again.
    assert await run_cell(capped, "x * 7") == f"[value]\n42\n[limit] {where} holds its maximum of {cap} " + (
        "files and directories; delete some before creating more"
    )
    clear = (
        f"import shutil, os\nfor e in os.scandir({where!r}):\n    (shutil.rmtree if e.is_dir() else os.remove)(e.path)"
    )
    assert "[limit]" not in await run_cell(capped, clear + "\nopen(os.path.join(" + repr(where) + ", 'again'), 'w')")


async def test_dev_is_read_only_and_the_cell_holds_no_capabilities(capped: PythonTool) -> None:
    code = textwrap.dedent(
        """
        import ctypes, os
        try:
            open("/dev/evil", "w")
        except OSError as exc:
            print("dev:", exc.strerror)
        open("/dev/null", "w").write("still a device")
        libc = ctypes.CDLL(None, use_errno=True)
        print("mount:", libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, b"nr_inodes=0"), os.strerror(ctypes.get_errno()))
        print("unshare:", libc.unshare(0x00020000), os.strerror(ctypes.get_errno()))
        status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
        print({k: v for k, v in status.items() if k.startswith("Cap") or k == "Seccomp"})
        """
    )
    out = await run_cell(capped, code)
    assert "dev: Read-only file system" in out
    assert "mount: -1 Operation not permitted" in out
    assert "unshare: -1 Operation not permitted" in out
    zero = "0000000000000000"
    caps = f"'CapInh': '{zero}', 'CapPrm': '{zero}', 'CapEff': '{zero}', 'CapBnd': '{zero}', 'CapAmb': '{zero}'"
    assert "{" + caps + ", 'Seccomp': '2'}" in out


def test_a_read_only_bind_under_tmp_stays_visible_and_read_only() -> None:
    require_bwrap()
    base = Path(tempfile.mkdtemp(prefix="castling-bind-"))  # under /tmp, which the sandbox mounts over
    base.chmod(0o755)
    (base / "data.txt").write_text("host data")
    (base / "data.txt").chmod(0o644)
    tool = python(extra_ro_binds=(str(base),), **FAST)
    try:
        out = tool.invoke({"code": f"print(open('{base}/data.txt').read())\nopen('{base}/new', 'w')"})
        assert out.startswith("[stdout]\nhost data\n[error]") and "Read-only file system" in out
    finally:
        tool.close()
        shutil.rmtree(base)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_least_recently_used_worker_is_stopped_beyond_max_workers() -> None:
    require_bwrap()
    tool = python(**FAST, max_workers=2)
    try:
        for thread in ("a", "b", "c"):  # starting "c" stops "a", the least recently used
            assert await run_cell(tool, f"name = {thread!r}", thread) == "[done] no output"
        assert tool.live_workers == 2
        assert await run_cell(tool, "name", "c") == "[value]\n'c'"
        assert await run_cell(tool, "name", "b") == "[value]\n'b'"
        out = await run_cell(tool, "name", "a")  # restarts "a", which stops "c" (now least recently used)
        assert out.startswith(
            "[note] this cell ran in a new interpreter (the previous one was stopped to stay within 2 live "
            "interpreters): variables and imports from earlier cells are gone\n[error]"
        )
        assert "NameError" in out
        assert await run_cell(tool, "name", "b") == "[value]\n'b'"
        assert "NameError" in await run_cell(tool, "name", "c")
        assert tool.live_workers == 2
    finally:
        await tool.aclose()


async def test_idle_workers_are_stopped_at_the_next_call() -> None:
    require_bwrap()
    clock = FakeClock()
    tool = python(**FAST, idle_timeout=60, clock=clock)
    try:
        assert await run_cell(tool, "v = 1", "old") == "[done] no output"
        clock.now += 30
        assert await run_cell(tool, "w = 2", "fresh") == "[done] no output"
        clock.now += 31  # "old" unused for 61 s, "fresh" for 31 s
        assert await run_cell(tool, "w", "fresh") == "[value]\n2"
        assert tool.live_workers == 1
        out = await run_cell(tool, "v", "old")
        assert out.startswith("[note] this cell ran in a new interpreter (the previous one was stopped after 60 s")
        assert "NameError" in out
    finally:
        await tool.aclose()


ORPHANS = """
import ctypes, os, warnings
from castling.tools import python
from castling.tools.code._launch import _probe

ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphaned descendants become our children

def children():
    return sorted(int(p) for t in os.listdir("/proc/self/task")
                  for p in open(f"/proc/self/task/{t}/children").read().split())

tool = python(timeout=5)  # the availability probe runs a whole sandbox
print("after probe", children())
print(tool.invoke({"code": "import os; os._exit(3)"}).splitlines()[0])  # the worker dies by itself
print("after crash", children())
tool.close()
print("after close", children())
"""


def test_probe_and_a_crashed_worker_leave_no_orphaned_bwrap_process() -> None:
    """bwrap's own PID-1 reaper outlived bwrap and was left to the host's init as a defunct `bwrap`."""
    require_bwrap()
    done = subprocess.run([sys.executable, "-c", ORPHANS], capture_output=True, text=True, timeout=120, check=True)
    lines = done.stdout.splitlines()
    assert lines == [
        "after probe []",
        "[crashed] the interpreter died (the worker exited with status 3). All variables and imports "
        "are lost; the next cell starts a new interpreter.",
        "after crash []",
        "after close []",
    ]


def test_settings_reject_a_non_positive_idle_timeout() -> None:
    from castling.errors import ConfigError

    with pytest.raises(ConfigError, match="idle_timeout"):
        python(idle_timeout=0)


def test_only_binds_under_the_new_mounts_are_bound_again() -> None:
    from castling.tools.code._config import PythonToolConfig
    from castling.tools.code._launch import confine_spec

    config = PythonToolConfig(extra_ro_binds=("/tmp", "/tmp/venv/", "/opt/venv", "/tmpfoo", "/workspace/data"))
    assert confine_spec(config)["rebind"] == ["/tmp", "/tmp/venv/", "/workspace/data"]
