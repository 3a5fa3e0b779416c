"""Keep every request inside the model's context window: count, budget, compact, and catch silent truncation.

Ollama truncates an over-long prompt silently: it answers 200 with `prompt_eval_count` at the window, and cuts
the front first (system prompt, tools, the task). Its runner sets `prompt_eval_count` to the prompt's token count
*after* that truncation and *before* the KV-cache prefix is reused, so a reused prefix still counts in full: the
figure is comparable from turn to turn, and a figure at the window means the prompt was cut. vLLM's
`usage.prompt_tokens` is likewise the whole prompt (cached tokens are reported apart), and vLLM refuses an
over-long prompt with a 400 instead of cutting it.

So, before each request: estimate its tokens (script-aware: CJK is near one token per character, so the estimate
never assumes English), calibrated by the server's own counts for earlier turns of the same conversation; if it
would not fit the window minus room for the reply, shrink old tool results (head and tail kept, with a note of what
was elided and how to get it again). After the reply: if the server evidently evaluated less than was sent, never
return that answer silently. The checkpoint keeps the full history: compaction changes only what is sent.

This module is the guard and its policy; the estimate is in `estimate.py`, the cutting in `compaction.py`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Literal

from castling.backbones.compaction import (
    SUMMARY_HEADER,
    SUMMARY_PROMPT,
    Compaction,
    older_turns,
    shrink_tool_results,
    summary_request,
)
from castling.backbones.estimate import estimate_request, estimate_text
from castling.backbones.wire import ChatRequest, ChatTurn
from castling.errors import ContextOverflow

__all__ = [
    "SUMMARY_HEADER",
    "SUMMARY_PROMPT",
    "Compaction",
    "ContextGuard",
    "ContextPolicy",
    "Fit",
    "Mode",
    "estimate_request",
    "estimate_text",
    "older_turns",
    "shrink_tool_results",
    "summary_request",
]
"""The estimate moved to `estimate.py` and the cutting to `compaction.py`; both still importable from here."""

Mode = Literal["compact", "error", "off"]
_MIN_RATIO, _MAX_RATIO = 0.5, 4.0
"""Bounds of the calibration: real tokenizers stay within them of the estimate."""


@dataclass(frozen=True)
class ContextPolicy:
    """What to do when a request would not fit: `compact` (default), `error`, or `off` (send as is)."""

    mode: Mode = "compact"
    reply_tokens: int | None = None
    """Room kept for the reply; default: `num_predict` when set, else a quarter of the window (at most 4096)."""
    keep_chars: int = 1500
    """Characters of a shrunk tool result kept (two thirds from its head, one third from its tail)."""


@dataclass
class Fit:
    """The request to send, and the summary call to make first when shrinking was not enough."""

    request: ChatRequest
    compaction: Compaction | None = None
    summarise: ChatRequest | None = None
    """A model call that summarises the older turns; its answer goes to `ContextGuard.summarised`."""
    span: tuple[int, int] = (0, 0)
    """The messages the summary replaces."""


@dataclass
class ContextGuard:
    """The budget of one backbone's requests, calibrated per conversation from the server's own counts."""

    policy: ContextPolicy = field(default_factory=ContextPolicy)
    force: bool = False
    """Compact the next request even if it fits (the chat's `/compact`); reset once used."""
    window_seen: int | None = None
    """The window of the last request (the plan strategy sizes its quoted step results by it)."""
    _ratio: dict[str, float] = field(default_factory=dict)
    _last_raw: tuple[ChatRequest | None, int] = field(default=(None, 0), repr=False, compare=False)

    def window(self, request: ChatRequest, model_length: int | None, api: str = "ollama") -> int | None:
        """Tokens the server will hold for this request.

        Ollama holds the `num_ctx` it is sent; other servers hold the model's own length (vLLM's `max_model_len`).
        """
        sent = request.options.get("num_ctx") if api == "ollama" else None
        return int(sent) if sent else model_length

    def budget(self, request: ChatRequest, window: int) -> int:
        """The window minus room for the reply."""
        room = self.policy.reply_tokens
        if room is None:
            predict = request.options.get("num_predict") or request.options.get("max_tokens")
            room = int(predict) if predict and int(predict) > 0 else min(4096, window // 4)
        return max(window - room, window // 2)

    def estimate(self, request: ChatRequest) -> int:
        """The calibrated estimate of the request's prompt tokens."""
        return round(self._raw(request) * self._ratio.get(_conversation(request), 1.0))

    def _raw(self, request: ChatRequest) -> int:
        """`estimate_request`, once per request object: `fit` and then `learn` both ask about the request sent."""
        last, tokens = self._last_raw
        if last is not request:
            tokens = estimate_request(request)
            self._last_raw = (request, tokens)
        return tokens

    def fit(self, request: ChatRequest, window: int | None) -> Fit:
        """The request to send: as is when it fits, else compacted; raises `ContextOverflow` when it cannot fit.

        First old tool results are shrunk; when that is not enough and there are older turns, the `Fit` asks for
        a summary call (the caller makes it, sync or async, and passes the text to `summarised`).
        """
        if window is None or self.policy.mode == "off":
            return Fit(request)
        budget, before = self.budget(request, window), self.estimate(request)
        forced, self.force = self.force, False
        if before <= budget and not forced:
            return Fit(request)
        if self.policy.mode == "error" and not forced:
            raise _overflow(request, before, window, "compaction is off (context='error')")
        target = min(budget, before // 2) if forced else budget  # `/compact` asks for a real cut
        messages, elided = shrink_tool_results(request.messages, self.policy.keep_chars, self._over(request, target))
        compacted = replace(request, messages=messages)
        after = self.estimate(compacted)
        compaction = Compaction(before, after, window, tuple(elided))
        if after <= target:
            return Fit(compacted, compaction)
        span = older_turns(messages)
        if span is not None:
            return Fit(compacted, compaction, summary_request(compacted, span), span)
        if after <= budget:
            return Fit(compacted, compaction)
        raise _overflow(request, after, window, "even with old tool results shrunk it does not fit", compacting=True)

    def summarised(self, fit: Fit, summary: str, window: int) -> Fit:
        """The fit with the older turns replaced by `summary`; raises `ContextOverflow` if it still does not fit."""
        start, end = fit.span
        messages = fit.request.messages
        note = f"{SUMMARY_HEADER}\n{summary.strip()}"
        system = messages[0] if messages and messages[0].get("role") == "system" else None
        head = [{**system, "content": f"{system.get('content') or ''}\n\n{note}"}] if system else []
        request = replace(fit.request, messages=[*head, *([] if system else [{"role": "system", "content": note}])])
        request.messages.extend(messages[end:])
        after = self.estimate(request)
        if after > self.budget(request, window):
            raise _overflow(request, after, window, "even the summary of the older turns does not fit", compacting=True)
        base = fit.compaction or Compaction(after, after, window, ())
        compaction = replace(base, tokens_after=after, summarised=end - start, summary=summary.strip())
        return Fit(request, compaction)

    def learn(self, request: ChatRequest, turn: ChatTurn, window: int | None) -> bool:
        """Calibrate from the server's count of this prompt; True if the server evidently cut it.

        Ollama cuts to the window (`prompt_eval_count` at the window), or, newer, to `num_ctx/2 + 2` tokens
        (ollama#17427). A cut teaches the estimate that it undercounts this conversation.
        """
        counted = turn.usage.prompt_tokens
        raw = self._raw(request)
        if not counted or window is None or not raw:
            return False
        halved = abs(counted - (window // 2 + 2)) <= 2 and raw > counted * 1.2
        key = _conversation(request)
        if counted >= window - 8 or halved:
            self._ratio[key] = max(self._ratio.get(key, 1.0), 1.15 * window / raw)
            return True
        seen = min(max(counted / raw, _MIN_RATIO), _MAX_RATIO)  # a server's odd count never disables the guard
        self._ratio[key] = seen if key not in self._ratio else 0.5 * self._ratio[key] + 0.5 * seen
        return False

    def overflow(self, request: ChatRequest, window: int, why: str) -> ContextOverflow:
        """The error for a request that does not fit, with the figures and what to do."""
        return _overflow(request, self.estimate(request), window, why, compacting=self.policy.mode == "compact")

    def _over(self, request: ChatRequest, budget: int) -> int:
        """Raw-estimate tokens to remove to get under `budget`."""
        ratio = self._ratio.get(_conversation(request), 1.0)
        return self._raw(request) - int(budget / ratio)


def _conversation(request: ChatRequest) -> str:
    """A key for the conversation: its first two messages (system prompt and task), which never change."""
    first = [(m.get("role"), str(m.get("content"))[:2000]) for m in request.messages[:2]]
    return hashlib.blake2b(repr((request.model, first)).encode(), digest_size=8).hexdigest()


def _overflow(request: ChatRequest, tokens: int, window: int, why: str, *, compacting: bool = False) -> ContextOverflow:
    last = (  # with compaction already on, what is left is what compaction never cuts
        "or send less at once (a shorter system prompt or user message, fewer tools)"
        if compacting
        else "or keep compaction on (Agent(..., context='compact'))"
    )
    return ContextOverflow(
        f"The request to {request.model!r} needs about {tokens:,} tokens but its context window is {window:,} "
        f"({why}). Raise num_ctx (e.g. num_ctx={_next_power(tokens)} on the backbone), use a model with a larger "
        f"window, {last}.",
        model=request.model,
        tokens=tokens,
        window=window,
    )


def _next_power(tokens: int) -> int:
    size = 4096
    while size < tokens * 1.3:
        size *= 2
    return size
