"""A pool of Ollama hosts against real loopback servers: one refuses, one dies between runs, one dies mid-stream,
one answers 500; load spread, the per-host limit (from the stubs' own counters) and the `/api/ps` preference."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from castling import Llama
from castling.backbones.ollama import OllamaServer
from castling.backbones.pool import Pool, PoolUnavailable
from castling.backbones.servers import make_server
from castling.backbones.wire import ChatRequest
from castling.errors import ModelNotFound, ModelStreamError, OllamaUnreachable
from tests.cli.ollama_stub import OllamaStub, text_lines

MODEL = "llama3"
WORDS = ["Hello", " from", " the", " pool", "."]
REQUEST = ChatRequest(MODEL, [{"role": "user", "content": "hi"}])


def closed_port() -> str:
    """A loopback address nothing listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def stub(replies: int = 1, delay: float = 0.0, models: tuple[str, ...] = (MODEL,)) -> OllamaStub:
    server = OllamaStub(list(models))
    for _ in range(replies):
        server.add(text_lines(MODEL, WORDS), delay)
    return server


def pool_of(*hosts: str, max_in_flight: int | None = None) -> Pool:
    return Pool([OllamaServer(host, timeout=20) for host in hosts], max_in_flight=max_in_flight)


def test_a_host_that_refuses_is_skipped_and_marked_down():
    dead = closed_port()
    with stub() as live:
        pool = make_server("ollama", [dead, live.host], timeout=20)
        assert isinstance(pool, Pool)
        assert pool.chat(REQUEST).content == "Hello from the pool."
        first, second = pool.health()
    assert first.down_for > 0 and first.failures == 1
    assert "not reachable" in first.last_error
    assert second.failures == 0 and len(live.requests) == 1


def test_when_every_host_refuses_the_error_names_each_host_and_what_it_said():
    hosts = [closed_port(), closed_port()]
    with pytest.raises(PoolUnavailable) as caught:
        pool_of(*hosts).chat(REQUEST)
    assert isinstance(caught.value, OllamaUnreachable)
    assert [host for host, _ in caught.value.failures] == [f"http://{h}" for h in hosts]
    for host in hosts:
        assert f"http://{host}: Ollama is not reachable" in str(caught.value)


def test_a_host_that_dies_between_runs_is_passed_over():
    first, second = stub(), stub(replies=2)
    with first, second:
        backbone = Llama(MODEL, host=[first.host, second.host], timeout=20)
        assert backbone.chat([{"role": "user", "content": "one"}]).text == "Hello from the pool."
        first.stop()
        assert backbone.chat([{"role": "user", "content": "two"}]).text == "Hello from the pool."
        assert backbone.chat([{"role": "user", "content": "three"}]).text == "Hello from the pool."
        health = backbone.server.health()  # type: ignore[attr-defined]
    assert [len(first.requests), len(second.requests)] == [1, 2]
    assert health[0].failures == 1  # the third request did not try the dead host again during its back-off


def test_a_500_before_the_first_byte_goes_to_the_next_host():
    empty, live = OllamaStub([MODEL]), stub()  # `empty` has no reply queued: it answers 500
    with empty, live:
        turn = pool_of(empty.host, live.host).chat(REQUEST)
    assert turn.content == "Hello from the pool."
    assert len(empty.requests) == 1 and len(live.requests) == 1


def test_a_stream_that_breaks_midway_is_not_replayed_and_keeps_its_partial_text():
    breaking, spare = OllamaStub([MODEL]), stub()
    breaking.add(text_lines(MODEL, WORDS), break_after=2)
    deltas: list[str] = []
    with breaking, spare:
        with pytest.raises(ModelStreamError) as caught:
            pool_of(breaking.host, spare.host).chat(REQUEST, lambda kind, text: deltas.append(text))
    assert caught.value.partial_text == "Hello from"
    assert deltas == ["Hello", " from"]
    assert spare.requests == []  # not sent again elsewhere


async def test_a_stream_that_breaks_midway_is_not_replayed_async():
    breaking, spare = OllamaStub([MODEL]), stub()
    breaking.add(text_lines(MODEL, WORDS), break_after=3)
    with breaking, spare:
        with pytest.raises(ModelStreamError) as caught:
            await pool_of(breaking.host, spare.host).achat(REQUEST)
    assert caught.value.partial_text == "Hello from the"
    assert spare.requests == []


async def test_concurrent_requests_spread_over_the_hosts():
    first, second = stub(replies=4, delay=0.05), stub(replies=4, delay=0.05)
    with first, second:
        pool = pool_of(first.host, second.host)
        turns = await asyncio.gather(*(pool.achat(REQUEST) for _ in range(4)))
    assert all(turn.content == "Hello from the pool." for turn in turns)
    assert len(first.requests) >= 1 and len(second.requests) >= 1
    assert len(first.requests) + len(second.requests) == 4


async def test_max_in_flight_one_means_no_host_ever_answers_two_at_once():
    first, second = stub(replies=6, delay=0.02), stub(replies=6, delay=0.02)
    with first, second:
        pool = pool_of(first.host, second.host, max_in_flight=1)
        turns = await asyncio.gather(*(pool.achat(REQUEST) for _ in range(6)))
    assert len(turns) == 6 and len(first.requests) + len(second.requests) == 6
    assert first.peak == 1 and second.peak == 1


def test_max_in_flight_holds_for_threads_too():
    only = stub(replies=4, delay=0.02)
    with only:
        pool = pool_of(only.host, max_in_flight=1)
        with ThreadPoolExecutor(4) as threads:
            turns = list(threads.map(lambda _: pool.chat(REQUEST), range(4)))
    assert [turn.content for turn in turns] == ["Hello from the pool."] * 4
    assert only.peak == 1 and len(only.requests) == 4


def test_an_idle_host_that_has_the_model_loaded_is_preferred():
    cold, warm = stub(replies=2), stub(replies=2)
    warm.loaded = [MODEL]
    with cold, warm:
        pool = pool_of(cold.host, warm.host)
        pool.chat(REQUEST)
        pool.chat(REQUEST)
    assert [len(cold.requests), len(warm.requests)] == [0, 2]


async def test_show_and_chat_go_to_the_host_that_has_the_model():
    lacking, having = stub(replies=0, models=("qwen3:8b",)), stub()
    with lacking, having:
        pool = pool_of(lacking.host, having.host)
        info = await pool.ashow(MODEL)
        turn = await pool.achat(REQUEST)
        models = await pool.alist_models()
    assert info.context_length == 8192
    assert turn.content == "Hello from the pool."
    assert lacking.requests == []  # its 404 on /api/show kept the chat away from it
    assert models == ["llama3", "qwen3:8b"]


def test_a_model_on_no_host_is_model_not_found_listing_every_hosts_models():
    first, second = stub(replies=0, models=("qwen3:8b",)), stub(replies=0, models=("llama3.1:8b",))
    with first, second:
        with pytest.raises(ModelNotFound) as caught:
            pool_of(first.host, second.host).show(MODEL)
    assert caught.value.installed == ("llama3.1:8b", "qwen3:8b")
    assert "ollama pull llama3" in str(caught.value)
