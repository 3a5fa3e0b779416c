"""How a request is made smaller: old tool results shrunk (head and tail kept), older turns summarised.

Only what is sent changes; the checkpoint keeps every message whole. The context guard (`context.py`) decides
when and how far; these functions do the cutting and record it (`Compaction`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from castling.backbones.estimate import estimate_text
from castling.backbones.wire import ChatRequest, WireMessage


@dataclass(frozen=True)
class Compaction:
    """What compaction did to one request."""

    tokens_before: int
    tokens_after: int
    window: int
    elided: tuple[str, ...]
    """One line per shrunk item: which tool result and how many characters."""
    summarised: int = 0
    """Messages of older turns replaced by a summary (0: none)."""
    summary: str = ""


SUMMARY_PROMPT = (
    "You compress conversations. Summarise the conversation below for the assistant who will continue it: the "
    "user's goals and requests, the facts learned from tools (keep names and figures), decisions made, and what is "
    "still open. Plain text, at most 150 words. Do not answer the user and do not call tools."
)
SUMMARY_HEADER = "[Summary of the earlier conversation, written by castling to fit the context window]"


def shrink_tool_results(
    messages: list[WireMessage], keep_chars: int, tokens_to_free: int
) -> tuple[list[WireMessage], list[str]]:
    """Shrink tool results, oldest first and in passes, until `tokens_to_free` are freed.

    Old results are cut to `keep_chars`, then to a fifth of that, and only then are the results the model is
    about to read cut (to twice `keep_chars`), and old ones to their note alone. Nothing is dropped or
    reordered: the system prompt, every user message and every assistant message with its tool calls go as
    they are, so no call is split from its result.
    """
    out = list(messages)
    latest = _latest_results(out)
    passes = [(0, latest, keep_chars), (0, latest, keep_chars // 5), (latest, len(out), keep_chars * 2), (0, latest, 0)]
    shrunk: dict[int, int] = {}
    freed = 0
    for start, stop, keep in passes:
        for index in range(start, stop):
            if freed >= tokens_to_free:
                break
            freed += _shrink(out, index, keep, messages[index], shrunk)
    elided = [
        f"{messages[i].get('tool_name') or 'tool'} result #{i}: {chars:,} chars" for i, chars in sorted(shrunk.items())
    ]
    return out, elided


def _shrink(out: list[WireMessage], index: int, keep: int, original: WireMessage, shrunk: dict[int, int]) -> int:
    """Cut `out[index]` to `keep` characters of the original if it is a longer tool result; the tokens freed."""
    content, now = str(original.get("content") or ""), str(out[index].get("content") or "")
    if original.get("role") != "tool" or len(content) <= keep + 200 or len(now) <= keep + 200:
        return 0
    cut = _head_and_tail(content, keep, str(original.get("tool_name") or "the tool"))
    out[index] = {**original, "content": cut}
    shrunk[index] = len(content) - keep
    return estimate_text(now) - estimate_text(cut)


def older_turns(messages: list[WireMessage]) -> tuple[int, int] | None:
    """The span of whole older turns to summarise: after the system prompt, before the latest user message.

    Cutting at a user message never splits an assistant's tool calls from their results. None when there is
    nothing older than the latest turn.
    """
    start = 1 if messages and messages[0].get("role") == "system" else 0
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return (start, last_user) if last_user - start >= 2 else None


def summary_request(request: ChatRequest, span: tuple[int, int]) -> ChatRequest:
    """The model call that summarises `request.messages[start:end]`: no tools, no thinking, a short reply."""
    start, end = span
    transcript = "\n\n".join(_transcript_line(m) for m in request.messages[start:end])
    options = {**request.options, "num_predict": 400}
    return replace(
        request,
        messages=[{"role": "system", "content": SUMMARY_PROMPT}, {"role": "user", "content": transcript}],
        tools=None,
        format=None,
        think=False if request.think is not None else None,
        options=options,
    )


def _transcript_line(message: WireMessage) -> str:
    role = str(message.get("role"))
    content = str(message.get("content") or "")
    if role == "tool":
        content = content if len(content) <= 600 else content[:400] + " … " + content[-200:]
        return f"tool result ({message.get('tool_name') or 'tool'}): {content}"
    calls = "; ".join(
        f"{c.get('function', {}).get('name')}({json.dumps(c.get('function', {}).get('arguments'), default=str)})"
        for c in message.get("tool_calls") or ()
    )
    return f"{role}: {content}" + (f" [called {calls}]" if calls else "")


def _latest_results(messages: list[WireMessage]) -> int:
    """Index of the first tool result after the last assistant message (len(messages) when there is none)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "assistant":
            return index + 1
    return len(messages)


def _head_and_tail(text: str, keep: int, tool: str) -> str:
    head, tail = text[: keep * 2 // 3], text[len(text) - keep // 3 :]
    note = (
        f"\n[… {len(text) - len(head) - len(tail):,} characters of this {tool} result elided by castling to fit the "
        f"context window; call {tool} again if you need them …]\n"
    )
    return head + note + tail
