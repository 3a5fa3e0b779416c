"""Shared helpers of the code-tool tests."""

from __future__ import annotations

import os
from typing import Any

import pytest

from castling.tools.code import PythonTool, SandboxUnavailable, python


def _bwrap_problem() -> str:
    try:
        python(timeout=1).close()
    except SandboxUnavailable as exc:
        return str(exc)
    return ""


BWRAP_PROBLEM = _bwrap_problem()


def require_bwrap() -> None:
    """Skip without a working bwrap, except on CI where it must be there (.ci/system-deps installs it)."""
    if BWRAP_PROBLEM:
        if os.environ.get("CI"):
            pytest.fail(f"bubblewrap must work on CI: {BWRAP_PROBLEM}")
        pytest.skip(BWRAP_PROBLEM)


FAST = {"timeout": 2, "grace": 0.5, "memory": "512MiB", "workspace_size": "8MiB", "max_file_size": "4MiB"}


async def run_cell(tool: PythonTool, code: str, thread: str = "t1") -> str:
    result = await tool.ainvoke({"code": code}, {"configurable": {"thread_id": thread}})
    assert isinstance(result, str)
    return result


def child_pids() -> set[int]:
    """Direct children of the test process (all threads)."""
    pids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            pids |= {int(p) for p in f.read().split()}
    return pids


__all__ = ["FAST", "Any", "child_pids", "require_bwrap", "run_cell"]
