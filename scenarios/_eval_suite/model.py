"""A scripted Ollama for the eval suite whose behaviour is set per model name (an httpx transport).

- `right…` (any other name too): the canonical calls, then the right answer in the user's language, if the last tool
  result holds the task's `evidence` (else it says what the tool returned instead).
- `english…`: the canonical calls, then the answer in English whatever the user wrote.
- `literal…`: the calls with the user's own names (`東京`, `Tokio`, `Japani`), then the answer in their language.

It recognises the task by the first user message (the suite's texts), makes one call per model turn, and answers
after the last result. Every reply counts 20 prompt and 10 completion tokens. The suite files are recorded from
`right`; the tests run `castling eval` over the suite against all three.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from .tasks import find

BEHAVIOURS = ("right", "english", "literal")


class SuiteModel:
    """`.transport` answers `/api/chat` by model name; discovery calls say every model has tools."""

    def __init__(self) -> None:
        self.transport = httpx.MockTransport(self.handle)
        self.chats = 0
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        body: dict[str, Any] = json.loads(request.content) if request.content else {}
        if request.url.path == "/api/show":
            info = {"general.architecture": "qwen3", "qwen3.context_length": 40960}
            return httpx.Response(200, json={"capabilities": ["completion", "tools"], "model_info": info})
        if request.url.path == "/api/tags":
            return httpx.Response(200, json={"models": [{"name": body.get("model", ""), "model": ""}]})
        if request.url.path != "/api/chat":
            return httpx.Response(200, json={"version": "0.12.10"})
        with self._lock:
            self.chats += 1
        return self.chat(body)

    def chat(self, body: dict[str, Any]) -> httpx.Response:
        model = str(body["model"])
        behaviour = next((b for b in BEHAVIOURS if model.startswith(b)), "right")
        messages: list[dict[str, Any]] = body["messages"]
        stream = bool(body.get("stream", True))
        user = next(m for m in messages if m["role"] == "user")
        found = find(str(user["content"]))
        if found is None:
            return _reply(model, "I do not know this task.", [], stream=stream)
        task, language = found
        calls = task.calls_for(language, canonical=behaviour != "literal")
        done = sum(m["role"] == "tool" for m in messages)
        if done < len(calls):
            name, args = calls[done]
            call = {"function": {"index": 0, "name": name, "arguments": args}}
            return _reply(model, "", [call], stream=stream)
        results = [str(m.get("content", "")) for m in messages if m["role"] == "tool"]
        if results and task.evidence not in results[-1]:  # it answers from what the tools returned
            return _reply(model, f"The tools did not give me the answer: {results[-1][:200]}", [], stream=stream)
        answer = task.answers["en" if behaviour == "english" else language]
        return _reply(model, answer, [], stream=stream)


def _reply(model: str, text: str, calls: list[dict[str, Any]], *, stream: bool) -> httpx.Response:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    stamp = "2026-01-01T00:00:00Z"
    done = {
        "model": model,
        "created_at": stamp,
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 250_000_000,
        "prompt_eval_count": 20,
        "eval_count": 10,
    }
    if not stream:
        return httpx.Response(200, json={**done, "message": message})
    chunk = {"model": model, "created_at": stamp, "message": message, "done": False}
    lines = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in (chunk, done))
    return httpx.Response(200, headers={"content-type": "application/x-ndjson"}, content=lines.encode())


def suite_web(request: httpx.Request) -> httpx.Response:
    """The constructed web the suite is recorded against: the museum page, 404 elsewhere."""
    from .tasks import PAGE_HTML, PAGE_URL

    if str(request.url) == PAGE_URL:
        return httpx.Response(200, headers={"content-type": "text/html; charset=utf-8"}, text=PAGE_HTML)
    return httpx.Response(404, headers={"content-type": "text/plain"}, text="not in the constructed web")
