"""Benchmark the web fetch tool: extraction time per page and fetch throughput from a loopback server.

Run: .venv/bin/python benchmarks/fetch.py [--quick]
Only loopback servers started here are contacted.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "tools" / "web"))

from pages import article_page  # noqa: E402
from server import Server, static  # noqa: E402

from castling.tools.web import fetch  # noqa: E402
from castling.tools.web._extract import _full_page_markdown, extract_html, warm_up  # noqa: E402
from castling.tools.web._extractor import InProcessExtractor, ProcessExtractor  # noqa: E402

SIZES = [20_000, 50_000, 100_000, 250_000, 500_000, 1_000_000]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms (p90 {pct(values, 0.9) * 1000:7.1f})"


def baseline_markdownify(page: str) -> object:
    import lxml.html

    return _full_page_markdown(lxml.html.document_fromstring(page))


async def extraction(per_size: int) -> None:
    warm_up()
    worker = ProcessExtractor()
    start = time.perf_counter()
    await worker.html("<p>x</p>", "", 60)
    print(f"extraction worker cold start (spawn + imports + warm-up): {(time.perf_counter() - start) * 1000:.0f} ms\n")
    print(f"{'page size':>10} | {'trafilatura in-process':>30} | {'same via worker process':>30} | "
          f"{'baseline: full-page markdownify':>32} | worker/in-proc | in-proc/baseline | in-proc CPU")  # fmt: skip
    for size in SIZES:
        times: dict[str, list[float]] = {"direct": [], "worker": [], "base": [], "cpu": []}
        pages = [article_page(size, seed=i) for i in range(per_size)]
        for page in pages:  # interleaved per page, so background load hits all three alike
            cpu = time.process_time()
            times["direct"].append(_timed(lambda p=page: extract_html(p, "https://example.org/a")))
            times["cpu"].append(time.process_time() - cpu)
            start = time.perf_counter()
            await worker.html(page, "https://example.org/a", 30)
            times["worker"].append(time.perf_counter() - start)
            times["base"].append(_timed(lambda p=page: baseline_markdownify(p)))
        direct, via_worker, base = times["direct"], times["worker"], times["base"]
        actual = statistics.median(len(p) for p in pages) / 1000
        print(f"{actual:7.0f} KB | {ms(direct):>30} | {ms(via_worker):>30} | {ms(base):>32} | "
              f"{statistics.median(via_worker) / statistics.median(direct):14.2f} | "
              f"{statistics.median(direct) / statistics.median(base):16.2f} | {ms(times['cpu'])}")  # fmt: skip
    worker.close()


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def start_server_thread(page: str) -> Server:
    """Serve from another thread and loop so the server's own work is not timed with the client's."""
    ready = threading.Event()
    server = Server()
    server.routes["/page"] = static(200, page, "text/html; charset=utf-8")

    def run() -> None:
        async def serve() -> None:
            await server.start()
            ready.set()
            await asyncio.Event().wait()

        asyncio.run(serve())

    threading.Thread(target=run, daemon=True).start()
    ready.wait(10)
    return server


async def throughput(requests: int, rounds: int = 5) -> None:
    page = article_page(100_000, seed=42)
    server = start_server_thread(page)
    url = server.url("/page")
    plain = httpx.AsyncClient()
    in_process = fetch(allow_hosts=["127.0.0.1"], extractor=InProcessExtractor())
    default = fetch(allow_hosts=["127.0.0.1"])
    guarded = in_process._web.client
    variants: dict[str, Callable[[], Awaitable[object]]] = {
        "baseline: plain httpx GET (no checks, no extraction)": lambda: plain.get(url),
        "guarded GET (policy, pinned connect, capped read)": lambda: guarded.request("GET", url),
        "fetch tool, extraction in-process": lambda: in_process.ainvoke({"url": url}),
        "fetch tool, extraction in worker process (default)": lambda: default.ainvoke({"url": url}),
    }
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):  # interleaved rounds, so load from other processes hits every variant alike
        for name, call in variants.items():
            rates[name].append(await _rate(max(1, requests // rounds), call))
    print(f"\nloopback throughput, {rounds} interleaved rounds of {requests // rounds} sequential requests, "
          f"{len(page) // 1000} KB page (median of rounds, requests/s):")  # fmt: skip
    base = statistics.median(rates[next(iter(variants))])
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"  {name:<52} {rate:7.1f} req/s  ({rate / base:.2f}x baseline)")
    await plain.aclose()
    await in_process.aclose()
    await default.aclose()


async def _rate(n: int, call: Callable[[], Awaitable[object]]) -> float:
    await call()  # warm connections and caches
    start = time.perf_counter()
    for _ in range(n):
        await call()
    return n / (time.perf_counter() - start)


async def main() -> None:
    quick = "--quick" in sys.argv
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs\n")
    await extraction(per_size=3 if quick else 10)
    await throughput(requests=20 if quick else 100)


if __name__ == "__main__":
    asyncio.run(main())
