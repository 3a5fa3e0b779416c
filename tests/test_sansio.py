"""The sync/async flow drivers: a flow sees each step's result or exception where it yielded it."""

from __future__ import annotations

import asyncio
import inspect
import threading

import pytest
from langchain_core.runnables import RunnableConfig

from castling.sansio import Flow, arun, both, io, run


class Wire:
    """A fake outside world with a sync and an async side; records which side answered."""

    def __init__(self) -> None:
        self.sides: list[str] = []

    def fetch(self, key: str) -> str:
        self.sides.append("sync")
        if key == "bad":
            raise KeyError(key)
        if key == "ctrl-c":
            raise KeyboardInterrupt
        return key.upper()

    async def afetch(self, key: str) -> str:
        self.sides.append("async")
        return self.fetch(key)


def fetch_both(wire: Wire, keys: list[str], cleaned: list[str]) -> Flow[list[str]]:
    got = []
    try:
        for key in keys:
            try:
                got.append((yield from io(wire.fetch, wire.afetch, key)))
            except KeyError:
                got.append("missing")
    finally:
        cleaned.append("done")
    return got


def test_run_sends_results_and_throws_failures_back_into_the_flow():
    wire, cleaned = Wire(), []
    assert run(fetch_both(wire, ["a", "bad", "b"], cleaned)) == ["A", "missing", "B"]
    assert wire.sides == ["sync"] * 3
    assert cleaned == ["done"]


def test_arun_awaits_the_async_side_with_the_same_flow():
    wire, cleaned = Wire(), []
    assert asyncio.run(arun(fetch_both(wire, ["a", "bad", "b"], cleaned))) == ["A", "missing", "B"]
    assert wire.sides == ["async", "sync"] * 3  # the async side (which here calls the sync one) answered first
    assert cleaned == ["done"]


def test_ctrl_c_in_a_sync_step_runs_the_flows_cleanup_and_reaches_the_caller_unchanged():
    wire, cleaned = Wire(), []
    with pytest.raises(KeyboardInterrupt):
        run(fetch_both(wire, ["a", "ctrl-c", "b"], cleaned))
    assert cleaned == ["done"]
    assert wire.sides == ["sync", "sync"]  # nothing after the interrupt ran


def test_the_sync_side_runs_in_the_callers_thread_with_no_event_loop():
    seen = []

    def where() -> tuple[threading.Thread, bool]:
        try:
            asyncio.get_running_loop()
            return threading.current_thread(), True
        except RuntimeError:
            return threading.current_thread(), False

    async def awhere() -> tuple[threading.Thread, bool]:
        return where()

    def flow() -> Flow[None]:
        seen.append((yield from io(where, awhere)))

    run(flow())
    assert seen == [(threading.current_thread(), False)]


def test_both_gives_graph_nodes_the_flows_signature():
    def node(state: dict, config: RunnableConfig) -> Flow[dict]:
        value = yield from io(lambda: state["x"], _async(state["x"]))
        return {"x": value + 1}

    sync, asynchronous = both(node)
    assert list(inspect.signature(sync).parameters) == ["state", "config"]  # LangGraph passes config by name
    assert sync({"x": 1}, {}) == {"x": 2}
    assert asyncio.run(asynchronous({"x": 1}, {})) == {"x": 2}


def _async(value: int):
    async def answer() -> int:
        return value

    return answer
