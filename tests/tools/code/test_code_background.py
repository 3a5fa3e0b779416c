"""#17 item 7: nothing a cell started keeps running after it returns, unless the tool allows background work."""

import time

from castling.tools.code import python
from castling.tools.code._procfs import children, live_descendants

from .code_helpers import FAST, child_pids, require_bwrap, run_cell

# A thread that keeps forking spinning children, also after the cell returned (and after the worker's reap).
REFORKER = (
    "import os, threading, time\n"
    "def refork():\n"
    "    while True:\n"
    "        try:\n"
    "            if os.fork() == 0:\n"
    "                while True:\n"
    "                    pass\n"
    "        except OSError:\n"
    "            pass\n"
    "        time.sleep(0.01)\n"
    "threading.Thread(target=refork, daemon=True).start()\n"
    "time.sleep(0.2)\n"
    "x = 41\n"
    "len(os.listdir('/proc')) > 1"
)


def sandbox_processes(bwrap_pids: set[int]) -> list[int]:
    """Live processes in the sandbox other than the worker (bwrap's only child), seen from the host."""
    (worker,) = [pid for bwrap in bwrap_pids for pid in children(bwrap)]
    return live_descendants(worker)


async def test_a_thread_reforking_spinners_leaves_nothing_running_between_cells():
    require_bwrap()
    before = child_pids()
    tool = python(**FAST)
    try:
        assert "[value]\nTrue" in await run_cell(tool, REFORKER)
        bwrap = child_pids() - before
        assert sandbox_processes(bwrap) == []
        time.sleep(0.3)  # the reforking thread would have forked ~30 spinners by now if it still ran
        assert sandbox_processes(bwrap) == []
        assert await run_cell(tool, "x + 1") == "[value]\n42"  # same interpreter, state kept
        assert sandbox_processes(bwrap) == []
    finally:
        await tool.aclose()


async def test_background_work_survives_the_cell_when_allowed():
    require_bwrap()
    before = child_pids()
    tool = python(background=True, **FAST)
    try:
        await run_cell(tool, "import subprocess\np = subprocess.Popen(['sleep', '60'])")
        assert len(sandbox_processes(child_pids() - before)) == 1
        assert await run_cell(tool, "p.poll() is None") == "[value]\nTrue"
    finally:
        await tool.aclose()
