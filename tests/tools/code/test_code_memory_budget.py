"""#17 item 6: `memory` is a budget for the whole sandbox, not for each of its processes."""

import pytest

from castling.tools.code import python
from castling.tools.code._cgroup import find_parents

from .code_helpers import FAST, require_bwrap, run_cell

# 8 children each touching 200 MB at the same time (1.6 GB): each waits, holding its memory, until all 8 are
# ready or dead. Prints how many finished normally, were killed by a signal, or could not allocate or fork.
GREEDY_CHILDREN = (
    "import os, select\n"
    "ready_r, ready_w = os.pipe()\n"
    "go_r, go_w = os.pipe()\n"
    "pids, refused = [], 0\n"
    "for _ in range(8):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        refused += 1\n"
    "        continue\n"
    "    if pid == 0:\n"
    "        os.close(go_w)\n"
    "        try:\n"
    "            block = b'x' * (200 << 20)\n"
    "        except MemoryError:\n"
    "            os._exit(3)\n"
    "        os.write(ready_w, b'1')\n"
    "        os.read(go_r, 1)\n"
    "        os._exit(0)\n"
    "    pids.append(pid)\n"
    "ready, statuses = 0, {}\n"
    "while ready + len(statuses) < len(pids):\n"
    "    if select.select([ready_r], [], [], 0.05)[0]:\n"
    "        ready += len(os.read(ready_r, 8))\n"
    "    for pid in set(pids) - set(statuses):\n"
    "        done, status = os.waitpid(pid, os.WNOHANG)\n"
    "        if done:\n"
    "            statuses[pid] = status\n"
    "os.close(go_w)\n"
    "for pid in set(pids) - set(statuses):\n"
    "    statuses[pid] = os.waitpid(pid, 0)[1]\n"
    "outcome = {'ok': 0, 'killed': 0, 'no memory': 0, 'fork refused': refused}\n"
    "for status in statuses.values():\n"
    "    outcome['ok' if status == 0 else 'no memory' if status == 3 << 8 else 'killed'] += 1\n"
    "outcome"
)


def outcome(out: str) -> dict[str, int]:
    value = out.split("[value]\n", 1)[1].split("\n", 1)[0]
    return dict(eval(value))  # the repr of a dict of ints printed by the cell


@pytest.mark.skipif(find_parents() is None, reason="no writable cgroup on this host (the rlimit test covers it)")
async def test_forked_children_share_one_memory_budget_in_a_cgroup():
    require_bwrap()
    tool = python(**(FAST | {"memory": "256MiB", "timeout": 30}))
    try:
        assert tool.limits.startswith("256 MiB of memory for all processes of the sandbox together")
        out = await run_cell(tool, "x = 'kept'\n" + GREEDY_CHILDREN)
        result = outcome(out)
        assert result["ok"] <= 1 and result["killed"] >= 7, out  # 200 MB twice is over 256 MiB
        assert "[limit] the sandbox reached its memory budget (256 MiB for all its processes together)" in out
        assert await run_cell(tool, "x") == "[value]\n'kept'"
    finally:
        await tool.aclose()


async def test_without_a_cgroup_processes_times_address_space_stays_within_the_budget():
    require_bwrap()
    tool = python(**(FAST | {"memory": "256MiB", "timeout": 30, "memory_limit": "rlimit"}))
    try:
        assert tool.limits.startswith("at most 2 processes and threads of 128 MiB address space each")
        result = outcome(await run_cell(tool, GREEDY_CHILDREN))
        # One child fits next to the worker (2 processes); it cannot get 200 MB of address space.
        assert result == {"ok": 0, "killed": 0, "no memory": 1, "fork refused": 7}
        assert await run_cell(tool, "1 + 1") == "[value]\n2"
    finally:
        await tool.aclose()
