"""robots.txt on every redirect hop, and one deadline for the whole call (download, queueing, extraction)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from castling.tools.web import ExtractorPool, StaticResolver, fetch
from castling.tools.web._extract import Extracted
from castling.tools.web._extractor import ExtractionFailed

from .server import LoopbackOnlyBackend, Server, static

PAGE = "<html><head><title>T</title></head><body><p>page text</p></body></html>"


@pytest.fixture
async def other() -> AsyncIterator[Server]:
    """A second site (other.test) on its own port."""
    s = await Server().start()
    yield s
    await s.stop()


def _tool(guard: LoopbackOnlyBackend, **settings: Any) -> Any:
    table = {"public.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    settings.setdefault("allow_hosts", ["public.test", "other.test"])
    return fetch(resolver=StaticResolver(table), network_backend=guard, **settings)


async def test_a_redirect_to_a_disallowed_path_is_refused_without_requesting_it(server, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/robots.txt"] = static(200, "User-agent: *\nDisallow: /private\n", "text/plain")
    server.routes["/start"] = static(302, "", "text/plain", Location="/private/page")
    server.routes["/private/page"] = static(200, "private", "text/plain")
    tool = _tool(guard)
    result = await tool.ainvoke({"url": server.url("/start", host="public.test")})
    await tool.aclose()
    origin = f"http://public.test:{server.port}"
    assert result == (
        f"fetch refused: {origin}/robots.txt disallows this URL for automated agents "
        f"(the redirect target {origin}/private/page)"
    )
    assert [r.path for r in server.requests] == ["/robots.txt", "/start"]


async def test_the_robots_txt_of_the_redirect_targets_site_is_read(server, other, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/go-private"] = static(302, "", "text/plain", Location=other.url("/private", host="other.test"))
    server.routes["/go-open"] = static(302, "", "text/plain", Location=other.url("/open", host="other.test"))
    other.routes["/robots.txt"] = static(200, "User-agent: castling-fetch\nDisallow: /private\n", "text/plain")
    other.routes["/private"] = static(200, "private", "text/plain")
    other.routes["/open"] = static(200, "open page", "text/plain")
    tool = _tool(guard)
    refused = await tool.ainvoke({"url": server.url("/go-private", host="public.test")})
    allowed = await tool.ainvoke({"url": server.url("/go-open", host="public.test")})
    await tool.aclose()
    assert refused.startswith(f"fetch refused: http://other.test:{other.port}/robots.txt disallows this URL")
    assert "open page" in allowed and "Redirected from:" in allowed
    # public.test has no robots.txt (404: allow); other.test's is read once and /private never requested.
    assert [r.path for r in server.requests] == ["/robots.txt", "/go-private", "/go-open"]
    assert [r.path for r in other.requests] == ["/robots.txt", "/open"]


async def test_without_robots_checking_redirects_are_followed_and_robots_txt_never_read(server, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/robots.txt"] = static(200, "User-agent: *\nDisallow: /\n", "text/plain")
    server.routes["/start"] = static(302, "", "text/plain", Location="/private/page")
    server.routes["/private/page"] = static(200, "private text", "text/plain")
    tool = _tool(guard, respect_robots_txt=False)
    result = await tool.ainvoke({"url": server.url("/start", host="public.test")})
    await tool.aclose()
    assert "private text" in result
    assert [r.path for r in server.requests] == ["/start", "/private/page"]


class StuckExtractor:
    """Records the time budget it was given and never finishes (like a hung extraction)."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    async def html(self, html: str, url: str, timeout: float) -> Extracted:
        self.timeouts.append(timeout)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def pdf(self, data: bytes, timeout: float) -> Extracted:
        raise AssertionError("no PDF here")


async def test_the_total_timeout_covers_extraction_too(server, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/page"] = static(200, PAGE, "text/html")
    extractor = StuckExtractor()
    tool = fetch(
        resolver=StaticResolver({}),
        network_backend=guard,
        extractor=extractor,
        allow_hosts=["127.0.0.1"],
        respect_robots_txt=False,
        timeout=0.5,
        extract_timeout=30,
    )
    # Before, the call took download time + extract_timeout (30 s here); wait_for only keeps a regression from hanging.
    result = await asyncio.wait_for(tool.ainvoke({"url": server.url("/page")}), 25)
    await tool.aclose()
    assert result == "fetch failed: extraction did not finish within the 0.5 s limit of the call"
    assert len(extractor.timeouts) == 1 and 0 < extractor.timeouts[0] <= 0.5


class BlockingWorker:
    """A pool worker whose calls wait until released; records the budget each call got."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.timeouts: list[float] = []

    def call(self, header: dict[str, Any], payload: bytes, timeout: float) -> Extracted:
        self.timeouts.append(timeout)
        self.entered.set()
        self.release.wait(30)
        return Extracted("T", "extracted text", "fake")

    def close(self) -> None:
        self.release.set()


async def test_waiting_for_a_free_extraction_worker_counts_against_the_deadline(server, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/page"] = static(200, PAGE, "text/html")
    pool = ExtractorPool(1, make_worker=BlockingWorker)
    (worker,) = pool.workers
    assert isinstance(worker, BlockingWorker)
    settings: dict[str, Any] = {"allow_hosts": ["127.0.0.1"], "respect_robots_txt": False, "extract_timeout": 30}
    patient = fetch(resolver=StaticResolver({}), network_backend=guard, extractor=pool, timeout=30, **settings)
    hurried = fetch(resolver=StaticResolver({}), network_backend=guard, extractor=pool, timeout=0.5, **settings)
    try:
        first = asyncio.create_task(patient.ainvoke({"url": server.url("/page")}))
        assert await asyncio.to_thread(worker.entered.wait, 20)  # the only worker is now busy
        second = await asyncio.wait_for(hurried.ainvoke({"url": server.url("/page")}), 25)
        # Normally the pool's own message; under heavy load the call's deadline may fire first.
        assert second.startswith(
            (
                "fetch failed: no extraction worker became free within the 0.",
                "fetch failed: extraction did not finish within the 0.5 s limit of the call",
            )
        )
        worker.release.set()
        assert "extracted text" in await first
        assert len(worker.timeouts) == 1  # the hurried call never got the worker
    finally:
        pool.close()
        await patient.aclose()
        await hurried.aclose()


async def test_the_pool_gives_up_waiting_for_a_busy_worker_at_the_timeout() -> None:
    pool = ExtractorPool(1, make_worker=BlockingWorker)
    (worker,) = pool.workers
    assert isinstance(worker, BlockingWorker)
    try:
        busy = asyncio.create_task(pool.html(PAGE, "http://x.test/", 30))
        assert await asyncio.to_thread(worker.entered.wait, 20)
        with pytest.raises(ExtractionFailed, match=r"^no extraction worker became free within the 0\.3 s left$"):
            await asyncio.wait_for(pool.html(PAGE, "http://x.test/", 0.3), 20)  # before: waited for the worker
        worker.release.set()
        assert (await busy).text == "extracted text"
        assert len(worker.timeouts) == 1 and worker.timeouts[0] <= 30
    finally:
        pool.close()
