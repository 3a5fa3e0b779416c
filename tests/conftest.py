from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.assertion import rewrite as _rewrite


def _without_gc(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


# castling is a pytest plugin distribution, so pytest assertion-rewrites every castling module on its first import,
# with ast.parse. CPython 3.11.7 raises a spurious "SystemError: AST constructor recursion depth mismatch" when the
# garbage collector runs a finalizer (here: an HTTP stream a previous test left to be collected) in the middle of
# building that tree; seen with test_cut_stream followed by a first import of castling.tools.web. Parsing with the
# collector paused keeps the suite's result independent of the order the modules are first imported in.
_rewrite._rewrite_test = _without_gc(_rewrite._rewrite_test)

from castling import Agent, Qwen, tool  # noqa: E402
from castling.testing import ScriptedOllama  # noqa: E402

RECORDED = Path(__file__).parent / "fixtures" / "recorded"


def recorded_json(name: str) -> Any:
    """A real recording from tests/fixtures/recorded (copied from shared/fixtures, provenance in its README)."""
    return json.loads((RECORDED / name).read_text())


@tool
def weather(city: str) -> str:
    """Current weather for a city.

    Args:
        city: the city name
    """
    return {"Paris": "sunny, 21 C", "Lyon": "rain, 15 C"}.get(city, "unknown city")


@pytest.fixture
def server() -> ScriptedOllama:
    return ScriptedOllama("qwen3:8b")


@pytest.fixture
def make_agent(server: ScriptedOllama):
    def build(tools=(weather,), **kwargs: Any) -> Agent:
        backbone_kwargs = kwargs.pop("backbone_kwargs", {})
        return Agent(Qwen("qwen3:8b", transport=server.transport, **backbone_kwargs), tools=list(tools), **kwargs)

    return build


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL for the session (tests/agents/postgres_server.py); fails, never skips, if missing."""
    from tests.agents.postgres_server import PostgresMissing, throwaway_postgres

    try:
        server = throwaway_postgres()
        url = server.__enter__()
    except PostgresMissing as exc:
        pytest.fail(str(exc))
    try:
        yield url
    finally:
        server.__exit__(None, None, None)
