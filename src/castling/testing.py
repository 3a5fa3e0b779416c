"""A scripted Ollama server for tests and benchmarks, served through an injected httpx transport.

It answers `/api/show`, `/api/tags`, `/api/version` and `/api/chat` (streamed NDJSON in Ollama's exact wire
shape, or one JSON object), records every request body, and fails loudly when the script runs out: a fake
that silently cycled would hide an agent that loops.

    server = ScriptedOllama("qwen3:8b")
    server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    server.add_reply("It is sunny in Paris.")
    agent = Agent(Qwen("qwen3:8b", transport=server.transport), tools=[weather])

`ScriptedOpenAI` (in `castling.scripted_openai`, importable from here) does the same for the OpenAI-compatible
wire (`server="openai"`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from castling.backbones.wire import merge_chunks

if TYPE_CHECKING:
    from castling.scripted_openai import ScriptedOpenAI

__all__ = [
    "DEFAULT_CAPABILITIES",
    "ScriptExhausted",
    "ScriptedOllama",
    "ScriptedOpenAI",
    "ScriptedReply",
    "WindowedOllama",
    "prompt_size",
]

DEFAULT_CAPABILITIES = ("completion", "tools", "thinking")
_CREATED = "2026-01-01T00:00:00.000000Z"


@dataclass
class ScriptedReply:
    """One scripted `/api/chat` answer: the NDJSON lines of a stream, or an HTTP error."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error: str | None = None


class ScriptExhausted(AssertionError):
    """The agent made more model calls than the script has replies for."""


class ScriptedOllama:
    """A fake Ollama server with a queue of replies."""

    def __init__(
        self,
        model: str = "qwen3:8b",
        *,
        capabilities: Sequence[str] = DEFAULT_CAPABILITIES,
        context_length: int | None = 40960,
        installed: Sequence[str] | None = None,
        model_info: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.model_info = dict(model_info or {})
        """More `/api/show` `model_info` figures (layers, heads: what the KV-cache size is computed from)."""
        self.capabilities = list(capabilities)
        self.context_length = context_length
        self.installed = list(installed) if installed is not None else [model]
        self.replies: list[ScriptedReply] = []
        self.requests: list[dict[str, Any]] = []
        """Bodies of the `/api/chat` requests received, in order."""
        self.nodes: list[str | None] = []
        """The graph node (`model`, `planner`, `decide`, …) that made each `/api/chat` request; None outside a graph.

        Known only in-process (the transport is called inside the node); a server behind a port sees None.
        """
        self.paths: list[str] = []
        self.transport = httpx.MockTransport(self.handle)

    # -- scripting -------------------------------------------------------------------------------------------
    def add_reply(
        self,
        text: str = "",
        *,
        thinking: str = "",
        tool_calls: Sequence[tuple[str, Mapping[str, Any]]] = (),
        done_reason: str = "stop",
        chunk_size: int = 8,
        prompt_tokens: int = 20,
        completion_tokens: int = 10,
    ) -> ScriptedReply:
        """Queue a reply streamed as Ollama does: thinking, then text in pieces, tool calls whole, then done."""
        lines = [_chunk(self.model, thinking=piece) for piece in _pieces(thinking, chunk_size)]
        lines += [_chunk(self.model, content=piece) for piece in _pieces(text, chunk_size)]
        if tool_calls:
            calls = [{"function": {"index": i, "name": n, "arguments": dict(a)}} for i, (n, a) in enumerate(tool_calls)]
            lines.append(_chunk(self.model, tool_calls=calls))
        lines.append(_done(self.model, done_reason, prompt_tokens, completion_tokens))
        return self.add_lines(lines)

    def add_lines(self, lines: Sequence[Mapping[str, Any]]) -> ScriptedReply:
        """Queue a reply given as the exact NDJSON objects to stream."""
        reply = ScriptedReply([dict(line) for line in lines])
        self.replies.append(reply)
        return reply

    def add_error(self, status: int, message: str) -> ScriptedReply:
        """Queue an HTTP error answer (`{"error": message}` with `status`)."""
        reply = ScriptedReply(status=status, error=message)
        self.replies.append(reply)
        return reply

    @property
    def pending(self) -> int:
        """Replies not yet served."""
        return len(self.replies)

    # -- serving ---------------------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """The httpx handler: route by path."""
        self.paths.append(request.url.path)
        body = json.loads(request.content) if request.content else {}
        match request.url.path:
            case "/api/show":
                return self._show(body)
            case "/api/tags":
                return httpx.Response(200, json={"models": [_tag(name) for name in self.installed]})
            case "/api/version":
                return httpx.Response(200, json={"version": "0.12.10"})
            case "/api/chat":
                return self._chat(body)
            case _:
                return httpx.Response(404, text="404 page not found")

    def _show(self, body: Mapping[str, Any]) -> httpx.Response:
        if body.get("model") not in self.installed:
            return httpx.Response(404, json={"error": f"model '{body.get('model')}' not found"})
        info: dict[str, Any] = {"general.architecture": "qwen3"}
        if self.context_length:
            info["qwen3.context_length"] = self.context_length
        info |= self.model_info
        return httpx.Response(200, json={"capabilities": self.capabilities, "model_info": info, "details": {}})

    def _chat(self, body: dict[str, Any]) -> httpx.Response:
        self.requests.append(body)
        self.nodes.append(calling_node())
        if not self.replies:
            raise ScriptExhausted(f"the agent made model call #{len(self.requests)} but the script had no reply left")
        reply = self.replies.pop(0)
        if reply.error is not None:
            return httpx.Response(reply.status, json={"error": reply.error})
        if body.get("stream", True):
            return httpx.Response(200, headers={"content-type": "application/x-ndjson"}, stream=_Lines(reply.lines))
        return httpx.Response(200, json=merge_chunks(reply.lines))


class _Lines(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, lines: list[dict[str, Any]]) -> None:
        self.lines = lines

    def __iter__(self) -> Iterator[bytes]:
        for line in self.lines:
            yield json.dumps(line).encode() + b"\n"

    async def __aiter__(self) -> Any:
        for line in self.lines:
            yield json.dumps(line).encode() + b"\n"


def calling_node() -> str | None:
    """The LangGraph node running this call (from the run's config, carried in context variables), else None."""
    from langgraph.config import get_config

    try:
        metadata = get_config().get("metadata") or {}
    except RuntimeError:  # not inside a graph run
        return None
    node = metadata.get("langgraph_node")
    return str(node) if node else None


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] if text else []


def _chunk(model: str, **message: Any) -> dict[str, Any]:
    return {
        "model": model,
        "created_at": _CREATED,
        "message": {"role": "assistant", "content": "", **message},
        "done": False,
    }


def _done(model: str, reason: str, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "model": model,
        "created_at": _CREATED,
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": reason,
        "total_duration": 250_000_000,
        "load_duration": 10_000_000,
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": 40_000_000,
        "eval_count": completion_tokens,
        "eval_duration": 200_000_000,
    }


def _tag(name: str) -> dict[str, Any]:
    return {"name": name, "model": name, "modified_at": _CREATED, "size": 1, "digest": "0" * 64, "details": {}}


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _server_tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    other = sum(1 for ch in text if ord(ch) > 127) - cjk
    return cjk + math.ceil(other / 1.5) + math.ceil((len(text) - cjk - other) / 3)


def prompt_size(body: Mapping[str, Any]) -> int:
    """The size of an `/api/chat` prompt by `WindowedOllama`'s own rule (deliberately not castling's estimate)."""
    messages = body.get("messages") or []
    total = sum(5 + _server_tokens(str(m.get("content") or "")) for m in messages)
    total += sum(_server_tokens(json.dumps(c)) for m in messages for c in m.get("tool_calls") or [])
    return total + _server_tokens(json.dumps(body.get("tools") or []))


_SUMMARY = "Earlier: the user asked about the logs; the tools answered and the answers were given."


class WindowedOllama(ScriptedOllama):
    """A `ScriptedOllama` that enforces its context window the way Ollama does.

    It counts each prompt with its own rule (~3 ASCII characters a token, one per CJK character, ~1.5 per other
    character: not castling's estimator, so calibration is exercised), and reports `prompt_eval_count` as Ollama
    does: the prompt's size, or the window when the prompt was longer and Ollama cut its front (ollama#3839).
    Requests for castling's compaction summary are answered with `summary` without using the script.
    """

    def __init__(self, model: str = "qwen3:8b", *, summary: str = _SUMMARY, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.summary = summary
        self.sizes: list[int] = []
        """The size of each prompt received."""
        self.truncated: list[bool] = []
        """Per request: whether the prompt was longer than the window (Ollama would have cut its front)."""
        self.summaries: list[dict[str, Any]] = []
        """The summary requests received."""

    def _chat(self, body: dict[str, Any]) -> httpx.Response:
        from castling.backbones.context import SUMMARY_PROMPT

        if (body.get("messages") or [{}])[0].get("content") == SUMMARY_PROMPT:
            self.summaries.append(body)
            self.add_reply(self.summary)
            self.replies.insert(0, self.replies.pop())
        size, window = prompt_size(body), int((body.get("options") or {}).get("num_ctx") or 2048)
        self.sizes.append(size)
        self.truncated.append(size > window)
        if self.replies and self.replies[0].lines:
            self.replies[0].lines[-1]["prompt_eval_count"] = min(size, window)
        return super()._chat(body)


def __getattr__(name: str) -> Any:
    if name == "ScriptedOpenAI":  # imported on first use: it imports this module's ScriptExhausted
        from castling.scripted_openai import ScriptedOpenAI

        return ScriptedOpenAI
    raise AttributeError(f"module 'castling.testing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "ScriptedOpenAI"})
