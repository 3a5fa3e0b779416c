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


class PlanCountingOllama(CountingOllama):
    """The plan strategy's side of the same script: a plan of `steps` one-tool steps, each run and kept.

    The request kind is told by its system prompt: the planner gets the whole plan, the executor `add(a=k, b=1)`
    for step k, the re-planner the remaining steps unchanged (no revision) or, after the last step, the answer.
    `calls` counts executed steps (executor calls).
    """

    def __init__(self) -> None:
        super().__init__()
        self.model_calls = 0

    def _goals(self, first: int) -> list[dict[str, Any]]:
        return [{"goal": f"Add one to {k}", "tool": "add"} for k in range(first, self.steps + 1)]

    def _reply(self, content: dict[str, Any]) -> bytes:
        message = {"role": "assistant", "content": json.dumps(content)}
        return _ndjson({"message": message, "done": False}, DONE)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/show":
            return httpx.Response(200, json=SHOW)
        self.model_calls += 1
        body = request.content
        if b"You carry out ONE step" in body:
            self.calls += 1
            reply = {"tool": "add", "arguments": {"a": self.calls, "b": 1}, "answer": None}
            if b'"on_track"' in body:  # the executor may vouch for the plan (replan="when_needed")
                reply["plan"] = "on_track"
        elif b"You plan how" in body:
            reply = {"steps": self._goals(1), "answer": None}
        elif self.calls >= self.steps:
            reply = {"done": True, "answer": "done", "steps": []}
        else:
            reply = {"done": False, "answer": None, "steps": self._goals(self.calls + 1)}
        return httpx.Response(200, content=self._reply(reply), headers={"content-type": "application/x-ndjson"})


MODELS = {"object": "list", "data": [{"id": "Qwen/Qwen3-8B", "object": "model", "max_model_len": 40960}]}
USAGE = {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}


def _sse(*deltas: tuple[dict[str, Any], str | None]) -> bytes:
    """vLLM's stream: one chunk per delta, the last with its finish_reason, then a usage chunk and `[DONE]`."""
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "Qwen/Qwen3-8B"}
    events = [{**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": f}]} for d, f in deltas]
    events.append({**chunk, "choices": [], "usage": USAGE})
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


class CountingOpenAI(CountingOllama):
    """The same script on the OpenAI-compatible wire (`/v1/models`, `/v1/chat/completions` streamed as SSE).

    Each reply is as small as the Ollama one (a delta with the whole call or text, then the finish): what differs
    is the wire (SSE events, a call's arguments as a JSON string, `tool_call_id`s), not the amount of work.
    """

    def __init__(self) -> None:
        super().__init__()
        self._answer = _sse(({"role": "assistant", "content": "done"}, None), ({}, "stop"))

    def _tool_call(self, k: int) -> bytes:
        arguments = json.dumps({"a": k, "b": 1})
        call = {"index": 0, "id": f"call_{k}", "type": "function", "function": {"name": "add", "arguments": arguments}}
        return _sse(({"role": "assistant", "content": "", "tool_calls": [call]}, None), ({}, "tool_calls"))

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json=MODELS)
        self.calls += 1
        body = self._answer if self.calls >= self.steps else self._tool_call(self.calls)
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
