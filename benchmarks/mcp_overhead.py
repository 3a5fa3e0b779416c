"""MCP tool overhead: per-call time of an MCP tool over stdio vs the same plain Python tool, and session start.

Both run through the agent's `Toolbox` (sync and async paths), so the numbers are what an agent step pays.
The server is the SDK-written test server (tests/tools/mcp/counter_server.py), started with this Python.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from castling import tool
from castling.agents.toolbox import Toolbox
from castling.tools import mcp

SERVER = [sys.executable, str(Path(__file__).parents[1] / "tests" / "tools" / "mcp" / "counter_server.py")]
CALLS = 200
STARTS = 5
count = 0


@tool
def bump(by: int = 1) -> str:
    """Add `by` to the counter and return it."""
    global count
    count += by
    return f"count={count}"


def per_call_sync(box: Toolbox) -> float:
    checked = box.check("bump", {"by": 1})
    start = time.perf_counter()
    for _ in range(CALLS):
        box.run(checked, None)  # type: ignore[arg-type]
    return (time.perf_counter() - start) / CALLS


async def per_call_async(box: Toolbox) -> float:
    checked = box.check("bump", {"by": 1})
    start = time.perf_counter()
    for _ in range(CALLS):
        await box.arun(checked, None)  # type: ignore[arg-type]
    return (time.perf_counter() - start) / CALLS


def session_start() -> tuple[float, float]:
    opens, closes = [], []
    for _ in range(STARTS):
        start = time.perf_counter()
        box = Toolbox([mcp(SERVER)], default_timeout=None)
        opens.append(time.perf_counter() - start)
        start = time.perf_counter()
        box.close()
        closes.append(time.perf_counter() - start)
    return statistics.median(opens), statistics.median(closes)


def main() -> None:
    plain = Toolbox([bump], default_timeout=None)
    remote = Toolbox([mcp(SERVER)], default_timeout=None)
    try:
        per_call_sync(remote)  # warm up both paths once
        rows = [
            ("plain tool, sync", per_call_sync(plain)),
            ("MCP tool over stdio, sync", per_call_sync(remote)),
            ("plain tool, async", asyncio.run(per_call_async(plain))),
            ("MCP tool over stdio, async", asyncio.run(per_call_async(remote))),
        ]
    finally:
        remote.close()
    print(f"per call ({CALLS} calls, one session):")
    for label, seconds in rows:
        print(f"  {label:<28} {seconds * 1e3:8.3f} ms")
    opened, closed = session_start()
    print(f"session start (spawn + handshake + tools/list), median of {STARTS}: {opened * 1e3:.0f} ms")
    print(f"session close (stdin closed, process reaped), median of {STARTS}: {closed * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
