"""A loopback Ollama stand-in whose behaviour is set per model, for `castling eval` tests.

Models (any tag): `right` always answers right; `half` is wrong on every second run of a task (deterministic
alternation per model and task, whatever the run order); `slow` answers right after `SLOW` seconds;
`broken` answers every chat with HTTP 500. Two tasks are understood, the library's `no-tool` (Italy's capital)
and `weather-single` (Paris: call `weather`, then answer from its result). Every reply costs 20 prompt and
10 completion tokens.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import httpx

SLOW = 0.3
MODELS = ["right:1b", "half:1b", "slow:1b", "broken:1b"]


class Behaviours:
    """The httpx transport (`.transport`) answering by model name."""

    def __init__(self) -> None:
        self.transport = httpx.MockTransport(self.handle)
        self.first_turns: Counter[tuple[str, str]] = Counter()
        self.chats: list[str] = []
        """The model of each chat request, in arrival order."""
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        body: dict[str, Any] = json.loads(request.content) if request.content else {}
        if request.url.path == "/api/show":
            info = {"general.architecture": "qwen3", "qwen3.context_length": 40960}
            return httpx.Response(200, json={"capabilities": ["completion", "tools"], "model_info": info})
        if request.url.path == "/api/tags":
            return httpx.Response(200, json={"models": [{"name": m, "model": m} for m in MODELS]})
        if request.url.path != "/api/chat":
            return httpx.Response(200, json={"version": "0.12.10"})
        return self.chat(body)

    def chat(self, body: dict[str, Any]) -> httpx.Response:
        model = str(body["model"])
        family = model.split(":")[0]
        messages = body["messages"]
        task = "no-tool" if "Italy" in _user_text(messages) else "weather"
        with self.lock:
            self.chats.append(model)
            if messages[-1]["role"] == "user":
                self.first_turns[(model, task)] += 1
            wrong = family == "half" and self.first_turns[(model, task)] % 2 == 0
        if family == "broken":
            return httpx.Response(500, json={"error": "model runner crashed"})
        if family == "slow":
            time.sleep(SLOW)
        return _reply(model, *_answer(task, messages, wrong), stream=body.get("stream", True))


def _user_text(messages: list[dict[str, Any]]) -> str:
    return " ".join(str(m.get("content", "")) for m in messages if m["role"] == "user")


def _answer(task: str, messages: list[dict[str, Any]], wrong: bool) -> tuple[str, list[dict[str, Any]]]:
    if task == "no-tool":
        return ("I think it is Milan." if wrong else "The capital of Italy is Rome."), []
    if wrong:
        return "I cannot tell the weather.", []
    if messages[-1]["role"] == "tool":
        return "It is 18 °C and sunny in Paris.", []
    return "", [{"function": {"index": 0, "name": "weather", "arguments": {"city": "Paris"}}}]


def _reply(model: str, text: str, calls: list[dict[str, Any]], *, stream: bool) -> httpx.Response:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    done = {
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 250_000_000,
        "prompt_eval_count": 20,
        "eval_count": 10,
    }
    chunk = {"model": model, "created_at": "2026-01-01T00:00:00Z", "message": message, "done": False}
    if not stream:
        return httpx.Response(200, json={**done, "message": message})
    lines = "".join(json.dumps(line) + "\n" for line in (chunk, done))
    return httpx.Response(200, headers={"content-type": "application/x-ndjson"}, content=lines.encode())


def serve_forever() -> None:
    """`python -m tests.scenarios.eval.behaviours`: serve on a free loopback port, print the URL, run until killed."""
    from castling.scenarios.serve import TransportServer

    running = TransportServer(Behaviours().transport, port=0).start()
    print(running.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    serve_forever()
