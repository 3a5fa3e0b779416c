"""A scripted Ollama that enforces its context window the way Ollama does.

It counts the prompt with its own rule (not castling's estimator: ~3 ASCII characters a token, one per CJK
character, ~1.5 per other non-ASCII character), and when the prompt is longer than `num_ctx` it keeps only the
last `num_ctx` tokens, cutting the front (system prompt, tools, the task), and reports `prompt_eval_count` at the
window, as Ollama does (ollama#3839).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import httpx

from castling.backbones.context import SUMMARY_PROMPT
from castling.testing import ScriptedOllama

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def server_tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    other = len(_NON_ASCII.findall(text)) - cjk
    return cjk + math.ceil(other / 1.5) + math.ceil((len(text) - cjk - other) / 3)


def prompt_tokens(body: dict[str, Any]) -> int:
    total = sum(5 + server_tokens(str(m.get("content") or "")) for m in body.get("messages", []))
    for message in body.get("messages", []):
        total += sum(server_tokens(json.dumps(c)) for c in message.get("tool_calls") or [])
    return total + server_tokens(json.dumps(body.get("tools") or []))


class WindowedOllama(ScriptedOllama):
    """`ScriptedOllama` whose `prompt_eval_count` is the real prompt size, cut to the window like Ollama."""

    def __init__(self, model: str = "qwen3:8b", **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.sizes: list[int] = []
        """The size of each prompt received, by the server's own count."""
        self.truncated: list[bool] = []
        """Per request: whether the server had to cut its front."""
        self.summaries: list[dict[str, Any]] = []
        """The summary requests castling's compaction made (answered without using the script)."""

    def _chat(self, body: dict[str, Any]) -> httpx.Response:
        if body["messages"][0].get("content") == SUMMARY_PROMPT:
            self.summaries.append(body)
            summary = self.add_reply(f"The user asked about {body['messages'][1]['content'].count('user:')} days.")
            self.replies.insert(0, self.replies.pop())
            assert summary is self.replies[0]
        size = prompt_tokens(body)
        window = int(body.get("options", {}).get("num_ctx") or 2048)
        self.sizes.append(size)
        self.truncated.append(size > window)
        if self.replies and self.replies[0].lines:
            self.replies[0].lines[-1]["prompt_eval_count"] = min(size, window)
        return super()._chat(body)
