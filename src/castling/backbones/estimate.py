"""Token estimates without a tokenizer: script-aware, cached per message object.

CJK is near one token per character and other non-Latin scripts about two characters a token, so the estimate
never assumes English. The context guard (`context.py`) calibrates it per conversation by the server's counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from castling.backbones.wire import ChatRequest

_WIDE = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef]")
_OTHER = re.compile(r"[^\x00-\x7f]")
_MESSAGE_OVERHEAD = 6
"""Template tokens around each message (role markers, separators)."""
_REQUEST_OVERHEAD = 16


def estimate_text(text: str) -> int:
    """Tokens in `text`: ~4 ASCII characters a token, ~1 a token for CJK, ~2 for other scripts."""
    if text.isascii():
        return (len(text) + 3) // 4
    wide = len(_WIDE.findall(text))
    other = len(_OTHER.findall(text)) - wide
    ascii_chars = len(text) - wide - other
    return wide + (other + 1) // 2 + (ascii_chars + 3) // 4


def estimate_request(request: ChatRequest) -> int:
    """Tokens the prompt of `request` takes: messages, tool schemas, structured-output schema, template."""
    total = _REQUEST_OVERHEAD + _sum_cached(request.messages, _message_tokens)
    total += _sum_cached(request.tools or (), _json_tokens)
    if isinstance(request.format, dict):
        total += _cached(request.format, _json_tokens)
    return total


_SEEN: dict[int, tuple[object, int]] = {}
"""Estimates by object identity: the agents resend the same message and tool dicts every step."""


def _cached(value: Mapping[str, Any], count: Callable[[Mapping[str, Any]], int]) -> int:
    hit = _SEEN.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    if len(_SEEN) > 16384:
        _SEEN.clear()
    tokens = count(value)
    _SEEN[id(value)] = (value, tokens)
    return tokens


def _sum_cached(values: Iterable[Mapping[str, Any]], count: Callable[[Mapping[str, Any]], int]) -> int:
    """`_cached` summed over `values`, the hit inlined: every step resends the whole conversation."""
    seen, total = _SEEN, 0
    for value in values:
        hit = seen.get(id(value))
        total += hit[1] if hit is not None and hit[0] is value else _cached(value, count)
    return total


def _json_tokens(value: Mapping[str, Any]) -> int:
    return estimate_text(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def _message_tokens(message: Mapping[str, Any]) -> int:
    tokens = _MESSAGE_OVERHEAD + estimate_text(str(message.get("content") or ""))
    for call in message.get("tool_calls") or ():
        tokens += _json_tokens(call.get("function", call))
    return tokens
