from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from castling.tools.web import StaticResolver, fetch, http_request

from .server import LoopbackOnlyBackend, Server


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = await Server().start()
    yield s
    await s.stop()


@pytest.fixture
async def internal() -> AsyncIterator[Server]:
    """The internal service holding a secret; SSRF tests must never reach it."""
    s = await Server().start()
    from .server import static

    s.routes["/secret"] = static(200, "TOP-SECRET", "text/plain")
    s.routes["/"] = static(200, "TOP-SECRET", "text/plain")
    yield s
    await s.stop()


@pytest.fixture
def guard() -> LoopbackOnlyBackend:
    return LoopbackOnlyBackend()


TABLE: dict[str, Any] = {"public.test": ["127.0.0.1"]}


@pytest.fixture
def make_fetch(guard: LoopbackOnlyBackend):  # type: ignore[no-untyped-def]
    def build(table: dict[str, Any] | None = None, **settings: Any):  # type: ignore[no-untyped-def]
        return fetch(resolver=StaticResolver(table or TABLE), network_backend=guard, **settings)

    return build


@pytest.fixture
def make_api(guard: LoopbackOnlyBackend):  # type: ignore[no-untyped-def]
    def build(table: dict[str, Any] | None = None, **settings: Any):  # type: ignore[no-untyped-def]
        return http_request(resolver=StaticResolver(table or TABLE), network_backend=guard, **settings)

    return build
