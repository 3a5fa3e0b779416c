from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from castling.tools.web import StaticResolver, fetch, http_request

from .server import LoopbackOnlyBackend, Server, static


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = await Server().start()
    yield s
    await s.stop()


@pytest.fixture
async def internal() -> AsyncIterator[Server]:
    """The internal service holding a secret; SSRF tests must never reach it."""
    s = await Server().start()
    s.routes["/secret"] = static(200, "TOP-SECRET", "text/plain")
    s.routes["/"] = static(200, "TOP-SECRET", "text/plain")
    yield s
    await s.stop()


@pytest.fixture
def guard() -> LoopbackOnlyBackend:
    return LoopbackOnlyBackend()


TABLE: dict[str, Any] = {"public.test": ["127.0.0.1"]}


@pytest.fixture
async def make_fetch(guard: LoopbackOnlyBackend) -> AsyncIterator[Any]:
    """Build fetch tools with a fake resolver and the loopback-only guard; closes them after the test."""
    tools: list[Any] = []

    def build(table: dict[str, Any] | None = None, **settings: Any) -> Any:
        settings.setdefault("respect_robots_txt", False)  # robots.txt has its own tests (test_robots.py)
        tools.append(fetch(resolver=StaticResolver(table or TABLE), network_backend=guard, **settings))
        return tools[-1]

    yield build
    for tool in tools:
        await tool.aclose()


@pytest.fixture
async def make_api(guard: LoopbackOnlyBackend) -> AsyncIterator[Any]:
    tools: list[Any] = []

    def build(table: dict[str, Any] | None = None, **settings: Any) -> Any:
        tools.append(http_request(resolver=StaticResolver(table or TABLE), network_backend=guard, **settings))
        return tools[-1]

    yield build
    for tool in tools:
        await tool.aclose()
