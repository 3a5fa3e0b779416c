"""What a pool adds per request: a pool of 3 hosts against a single server, same scripted transport.

    .venv/bin/python benchmarks/pool_routing.py [--requests 2000] [--rounds 7]

Both send the same `/api/chat` request through `OllamaServer` over one in-process `httpx.MockTransport` (an
instant model: two NDJSON lines). The pool's hosts all answer `/api/ps` with the model loaded (cached per host
for a few seconds, as in live use), so each request pays for the whole routing path: the loaded-model lookup,
the pick under the lock, the slot taken and given back. Routing cost = pool - single, per request; medians over
rounds, sync (`chat`) and async (`achat`). Target: < 0.1 ms per request.

An HTTP round trip through the mock costs ~1 ms here and its noise on a shared machine is larger than the
routing, so the last rows time the routing alone: the same pool over instant in-process servers (`Instant`,
whose `chat` returns a ready turn and `loaded_models` a ready set) against calling one of them directly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable

import httpx

from castling.backbones.ollama import OllamaServer
from castling.backbones.pool import Pool
from castling.backbones.server import ModelInfo, ModelServer
from castling.backbones.wire import ChatRequest, ChatTurn, OnDelta

MODEL = "qwen3:8b"
HOSTS = ["http://gpu1:11434", "http://gpu2:11434", "http://gpu3:11434"]
REPLY = b"".join(
    json.dumps({"model": MODEL, "created_at": "2026-01-01T00:00:00Z", **line}).encode() + b"\n"
    for line in (
        {"message": {"role": "assistant", "content": "done"}, "done": False},
        {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop", "eval_count": 1},
    )
)
REQUEST = ChatRequest(MODEL, [{"role": "user", "content": "count"}], options={"num_ctx": 4096})


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/ps":
        return httpx.Response(200, json={"models": [{"name": MODEL, "model": MODEL}]})
    return httpx.Response(200, content=REPLY, headers={"content-type": "application/x-ndjson"})


def servers(transport: httpx.MockTransport) -> dict[str, ModelServer]:
    return {
        "single": OllamaServer(HOSTS[0], transport=transport),
        "pool of 3": Pool([OllamaServer(host, transport=transport) for host in HOSTS]),
    }


class Instant:
    """A model server that answers at once, without HTTP: what remains of a pool's cost is its routing."""

    api = "ollama"

    def __init__(self, host: str) -> None:
        self.host = host
        self.turn = ChatTurn(content="done")
        self.loaded = frozenset({MODEL})

    def show(self, model: str) -> ModelInfo:
        return ModelInfo(model, frozenset({"completion"}), 4096)

    async def ashow(self, model: str) -> ModelInfo:
        return self.show(model)

    def list_models(self) -> list[str]:
        return [MODEL]

    async def alist_models(self) -> list[str]:
        return [MODEL]

    def loaded_models(self) -> frozenset[str]:
        return self.loaded

    async def aloaded_models(self) -> frozenset[str]:
        return self.loaded

    def chat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatTurn:
        return self.turn

    async def achat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatTurn:
        return self.turn

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def instant_servers() -> dict[str, ModelServer]:
    return {"single": Instant(HOSTS[0]), "pool of 3": Pool([Instant(host) for host in HOSTS])}


def timed_sync(server: ModelServer, requests: int) -> float:
    start = time.perf_counter()
    for _ in range(requests):
        server.chat(REQUEST)
    return (time.perf_counter() - start) / requests


def timed_async(server: ModelServer, requests: int) -> float:
    async def run() -> float:
        start = time.perf_counter()
        for _ in range(requests):
            await server.achat(REQUEST)
        return (time.perf_counter() - start) / requests

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    sync_transport, async_transport = httpx.MockTransport(answer), httpx.MockTransport(answer)
    modes: dict[str, tuple[dict[str, ModelServer], Callable[[ModelServer, int], float]]] = {
        "sync": (servers(sync_transport), timed_sync),
        "async": (servers(async_transport), timed_async),
        "sync, routing alone": (instant_servers(), timed_sync),
        "async, routing alone": (instant_servers(), timed_async),
    }
    for named, timer in modes.values():
        for server in named.values():
            timer(server, 50)  # warm up: clients built, /api/ps cached
    print(f"per-request cost, median of {args.rounds} rounds x {args.requests} requests (instant scripted model)")
    print(f"{'mode':<22}{'single µs':>11}{'pool of 3 µs':>14}{'routing µs':>12}{'ratio':>8}")
    for mode, (named, timer) in modes.items():
        samples: dict[str, list[float]] = {name: [] for name in named}
        for _ in range(args.rounds):
            for name, server in named.items():  # interleaved, so drift hits both alike
                samples[name].append(timer(server, args.requests))
        single, pool = (statistics.median(samples[name]) * 1e6 for name in ("single", "pool of 3"))
        print(f"{mode:<22}{single:>11.1f}{pool:>14.1f}{pool - single:>12.1f}{pool / single:>8.2f}")


if __name__ == "__main__":
    main()
