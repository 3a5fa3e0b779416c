"""A counting scripted Ollama for the benchmarks: `add(a=k, b=1)` N-1 times, then an answer."""

from __future__ import annotations

import json
from typing import Any

import httpx

SHOW = {"capabilities": ["completion", "tools"], "model_info": {"qwen3.context_length": 40960}}
DONE = {
    "message": {"role": "assistant", "content": ""},
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 20,
    "eval_count": 5,
    "eval_duration": 1000000,
}


def _ndjson(*lines: dict[str, Any]) -> bytes:
    return b"".join(json.dumps({"model": "qwen3:8b", **line}).encode() + b"\n" for line in lines)


class CountingOllama:
    """Answers with a tool call until `steps - 1` calls were made in the current run, then with text."""

    def __init__(self) -> None:
        self.steps = 1
        self.calls = 0
        self.transport = httpx.MockTransport(self.handle)
        self._answer = _ndjson({"message": {"role": "assistant", "content": "done"}, "done": False}, DONE)

    def start(self, steps: int) -> None:
        self.steps, self.calls = steps, 0

    def _tool_call(self, k: int) -> bytes:
        call = {"function": {"name": "add", "arguments": {"a": k, "b": 1}}}
        return _ndjson({"message": {"role": "assistant", "content": "", "tool_calls": [call]}, "done": False}, DONE)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/show":
            return httpx.Response(200, json=SHOW)
        self.calls += 1
        body = self._answer if self.calls >= self.steps else self._tool_call(self.calls)
        return httpx.Response(200, content=body, headers={"content-type": "application/x-ndjson"})
