"""A sync model call stays sync: deltas arrive in the caller's thread and context, and Ctrl-C stays Ctrl-C.

Sync and async calls share one body (`castling.sansio`); these pin what a sync caller sees, on both wires, so
that the sync path is never turned into an event loop or a thread behind the caller's back.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextvars import ContextVar

import pytest

from castling.backbones.base import BaseBackbone
from castling.backbones.qwen import Qwen
from castling.backbones.wire import DeltaKind
from castling.scripted_openai import ScriptedOpenAI
from tests.cli.ollama_stub import OllamaStub, text_lines

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="unset")
ASK = [{"role": "user", "content": "Say it."}]


@pytest.fixture(params=["ollama", "openai"])
def wire(request: pytest.FixtureRequest) -> Iterator[tuple[BaseBackbone, object]]:
    """A backbone on each wire and a way to queue the reply `Half of it`."""
    if request.param == "ollama":
        with OllamaStub(["qwen3:8b"]) as stub:  # a real loopback server
            yield (
                Qwen("qwen3:8b", host=stub.host, think=False),
                lambda: stub.add(text_lines("qwen3:8b", ["Half ", "of ", "it"])),
            )
    else:
        server = ScriptedOpenAI("Qwen/Qwen3-8B")
        backbone = Qwen("Qwen/Qwen3-8B", server="openai", host="http://gpu1:8000/v1", transport=server.transport)
        yield backbone, lambda: server.add_reply("Half of it", chunk_size=5)


def test_deltas_arrive_in_the_callers_thread_and_context_with_no_event_loop(wire):
    backbone, queue = wire
    queue()
    seen = []

    def on_delta(kind: DeltaKind, text: str) -> None:
        try:
            asyncio.get_running_loop()
            loop = True
        except RuntimeError:
            loop = False
        seen.append((threading.current_thread(), REQUEST_ID.get(), loop))

    token = REQUEST_ID.set("r-1")
    try:
        reply = backbone.chat(ASK, on_delta=on_delta)
    finally:
        REQUEST_ID.reset(token)
    assert reply.text == "Half of it"
    assert seen and set(seen) == {(threading.current_thread(), "r-1", False)}


def test_ctrl_c_during_a_sync_stream_reaches_the_caller_and_the_next_call_still_answers(wire):
    backbone, queue = wire
    queue()
    queue()

    def interrupt(kind: DeltaKind, text: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # not wrapped into a model error: the CLI's Ctrl-C handling sees it
        backbone.chat(ASK, on_delta=interrupt)
    assert backbone.chat(ASK).text == "Half of it"
