from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from castling import Agent, Qwen, tool
from castling.testing import ScriptedOllama

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
