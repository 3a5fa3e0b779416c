"""Checkpointers under load: runs per second and step latency at 1, 10 and 100 concurrent async runs.

Run: .venv/bin/python benchmarks/checkpointers.py [--quick]
Needs PostgreSQL installed (Debian's postgresql package): a throwaway server is started on loopback and removed.

Each run is STEPS model calls (STEPS-1 `add` tool calls, then an answer) against a scripted model served through
an in-process httpx transport, so the time measured is castling + LangGraph + the checkpointer. Savers:
  none            no checkpointer, no thread: the step overhead alone
  memory          LangGraph's InMemorySaver
  sqlite          castling's "sqlite:///…" (one file, WAL)
  postgres        castling's "postgresql://…" (pool of 10, health-checked, no instance lock)
  postgres-stock  LangGraph's AsyncPostgresSaver on the same kind of pool, with its instance-wide lock
All savers use durability="sync" (a step's checkpoint is written before the next step starts).
A step's latency is the time between two model requests of one run: a model call and a tool call, i.e. two
LangGraph steps and two checkpoints.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from tests.agents.postgres_server import throwaway_postgres  # noqa: E402

from castling import Agent, Qwen  # noqa: E402
from castling.agents.checkpoint_postgres import PostgresCheckpointer  # noqa: E402
from castling.agents.checkpoint_sqlite import SqliteCheckpointer  # noqa: E402

STEPS = 3
CONCURRENCY = (1, 10, 100)
RUNS = {1: 30, 10: 100, 100: 300}
SHOW = {"capabilities": ["completion", "tools"], "model_info": {"qwen3.context_length": 40960}}
DONE = {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop", "eval_count": 5}


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _ndjson(*lines: dict[str, Any]) -> bytes:
    return b"".join(json.dumps({"model": "qwen3:8b", **line}).encode() + b"\n" for line in lines)


class StatelessScript:
    """Tool calls until a run has STEPS-1 tool results, then an answer; decided from the request, so any number of
    runs can share it. Notes when each run's model requests arrive (the run is named in its first message)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.transport = httpx.MockTransport(self.handle)
        call = {"function": {"name": "add", "arguments": {"a": 1, "b": 1}}}
        self.tool_call = _ndjson({"message": {"role": "assistant", "content": "", "tool_calls": [call]}}, DONE)
        self.answer = _ndjson({"message": {"role": "assistant", "content": "done"}, "done": False}, DONE)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/show":
            return httpx.Response(200, json=SHOW)
        messages = json.loads(request.content)["messages"]
        run = next(m["content"] for m in messages if m["role"] == "user")
        self.arrivals[run].append(time.perf_counter())
        tools_done = sum(1 for m in messages if m["role"] == "tool")
        body = self.tool_call if tools_done < STEPS - 1 else self.answer
        return httpx.Response(200, content=body, headers={"content-type": "application/x-ndjson"})


async def measure(saver: Any, concurrency: int, runs: int) -> tuple[float, float, float]:
    """Runs per second, median and p95 step latency (ms) for `runs` runs, `concurrency` at a time."""
    script = StatelessScript()
    agent = Agent(Qwen("qwen3:8b", transport=script.transport), tools=[add], checkpointer=saver)
    await agent.arun("warm-up", thread_id="warm-up" if saver is not None else None)
    script.arrivals.clear()
    stamp = time.strftime("%H%M%S") + str(time.perf_counter_ns())
    names = [f"run-{stamp}-{i}" for i in range(runs)]
    started = time.perf_counter()
    for first in range(0, runs, concurrency):
        batch = names[first : first + concurrency]
        await asyncio.gather(*(agent.arun(name, thread_id=name if saver is not None else None) for name in batch))
    elapsed = time.perf_counter() - started
    steps = [b - a for times in script.arrivals.values() for a, b in zip(times, times[1:], strict=False)]
    steps.sort()
    p95 = steps[min(len(steps) - 1, int(len(steps) * 0.95))]
    return runs / elapsed, statistics.median(steps) * 1e3, p95 * 1e3


async def stock_postgres(url: str) -> Any:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(url, kwargs=kwargs, max_size=10, open=False)
    await pool.open(wait=True)
    saver = AsyncPostgresSaver(pool)
    await saver.setup()
    return saver


async def main(quick: bool) -> None:
    runs = {c: max(c, n // 5) for c, n in RUNS.items()} if quick else RUNS
    folder = Path(tempfile.mkdtemp(prefix="castling-bench-"))
    with throwaway_postgres() as url:
        savers: dict[str, Any] = {
            "none": None,
            "memory": InMemorySaver(),
            "sqlite": SqliteCheckpointer(folder / "threads.db"),
            "postgres": PostgresCheckpointer(url),
            "postgres-stock": await stock_postgres(url),
        }
        print(f"{STEPS} model calls per run; runs/s and step latency (ms) by concurrent async runs")
        print(f"{'saver':<15}{'concurrent':>11}{'runs':>6}{'runs/s':>9}{'step p50':>10}{'step p95':>10}")
        figures: dict[tuple[str, int], tuple[float, float, float]] = {}
        for name, saver in savers.items():
            for concurrency in CONCURRENCY:
                figures[name, concurrency] = await measure(saver, concurrency, runs[concurrency])
                rate, p50, p95 = figures[name, concurrency]
                print(f"{name:<15}{concurrency:>11}{runs[concurrency]:>6}{rate:>9.1f}{p50:>10.2f}{p95:>10.2f}")
        base = figures["none", 1][1]
        print(f"step overhead without a checkpointer (1 run at a time, p50): {base:.2f} ms")
        for name in ("memory", "sqlite", "postgres", "postgres-stock"):
            print(f"checkpoint cost per step, {name}: {figures[name, 1][1] - base:+.2f} ms (1 run at a time, p50)")
        for saver in savers.values():
            if hasattr(saver, "aclose"):
                await saver.aclose()
            elif saver is not None and hasattr(saver, "conn"):
                await saver.conn.close()


if __name__ == "__main__":
    asyncio.run(main("--quick" in sys.argv))
