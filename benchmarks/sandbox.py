"""Latency of the code sandbox: cold worker start, warm round trip, and `python3 -c pass` for scale.

Run: .venv/bin/python benchmarks/sandbox.py [--runs N]
Targets (issue 3): warm round trip < 2 ms median, cold start < 100 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable

from castling.tools.code import PythonToolConfig, python
from castling.tools.code._process import WorkerProcess


def stats(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    return f"median {statistics.median(ms):7.2f} ms   p90 {p90:7.2f} ms   (n={len(ms)})"


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


TEMP_DIRS: list[str] = []


def workdir(config: PythonToolConfig) -> str | None:
    """Process mode runs in a host directory; a fresh one, so the per-cell workspace scan is not inflated."""
    if config.sandbox != "process":
        return None
    path = tempfile.mkdtemp(prefix="castling-bench-")
    os.chmod(path, 0o777)
    TEMP_DIRS.append(path)
    return path


def cold_start(config: PythonToolConfig, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        worker = WorkerProcess(config, workdir(config))
        start = time.perf_counter()
        worker.start()
        samples.append(time.perf_counter() - start)
        worker.close()
    return samples


def cold_first_cell(config: PythonToolConfig, runs: int) -> list[float]:
    """Spawn to the first cell's result: what a new agent session waits for."""
    samples = []
    for _ in range(runs):
        worker = WorkerProcess(config, workdir(config))
        start = time.perf_counter()
        worker.start()
        worker.run("x = 1", timeout=5, cancel=threading.Event())
        samples.append(time.perf_counter() - start)
        worker.close()
    return samples


def warm_round_trip(config: PythonToolConfig, code: str, runs: int) -> list[float]:
    worker = WorkerProcess(config, workdir(config))
    worker.start()
    cancel = threading.Event()
    try:
        worker.run("x = 1", timeout=5, cancel=cancel)
        return timed(lambda: worker.run(code, timeout=5, cancel=cancel), runs)
    finally:
        worker.close()


async def tool_round_trip(runs: int) -> list[float]:
    tool = python()
    config = {"configurable": {"thread_id": "bench"}}
    await tool.ainvoke({"code": "x = 1"}, config)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await tool.ainvoke({"code": "x"}, config)
        samples.append(time.perf_counter() - start)
    await tool.aclose()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    bwrap = PythonToolConfig()
    process = PythonToolConfig(sandbox="process")
    python(timeout=1).close()  # probes bwrap (cached), so it is not counted below
    rows = [
        ("python3 -c pass (subprocess)", timed(lambda: subprocess.run(["/usr/bin/python3", "-c", "pass"]), args.runs)),
        ("cold start, bwrap worker", cold_start(bwrap, args.runs)),
        ("cold start + first cell, bwrap worker", cold_first_cell(bwrap, args.runs)),
        ("cold start, process worker", cold_start(process, args.runs)),
        ("warm round trip `x = 1`, bwrap", warm_round_trip(bwrap, "x = 1", args.runs * 10)),
        ("warm round trip `print(x)`, bwrap", warm_round_trip(bwrap, "print(x)", args.runs * 10)),
        ("warm round trip `x = 1`, process", warm_round_trip(process, "x = 1", args.runs * 10)),
        ("tool.ainvoke round trip `x`, bwrap", asyncio.run(tool_round_trip(args.runs * 10))),
    ]
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    for name, samples in rows:
        print(f"{name:40s} {stats(samples)}")
    for path in TEMP_DIRS:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
