"""castling's wire messages (Ollama-shaped) as OpenAI chat messages, converted incrementally.

castling's messages carry no call ids, arguments as objects and results with `tool_name`; the OpenAI wire wants
ids on the calls (`call_<n>`), arguments as JSON strings and `tool_call_id` on each result. Results are matched
to the calls of the assistant turn before them by order, preferring the first open call with the same tool
name (Ollama matches the same way, so both wires see the same pairing).

The agents resend the whole conversation every step: the same wire dicts in the same order, then the new ones
(`agents.messages.WireCache`). Converting all of it again (a `json.dumps` per call) was ~10% of a step on this
wire, so the last conversion of each conversation is kept, keyed by its first messages, and only what follows
the part still the same (the same objects, their `content` and `tool_calls` not reassigned) is converted. A
change made inside a sent message's call arguments is not seen: wire messages are values once sent, as the
context guard's estimates assume too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from castling.backbones.wire import WireMessage

OpenCalls = tuple[tuple[str, str], ...]
"""(id, tool name) of the calls not answered yet."""


@dataclass(frozen=True)
class _Conversion:
    sources: tuple[WireMessage, ...]
    contents: tuple[Any, ...]
    calls: tuple[Any, ...]
    out: tuple[dict[str, Any], ...]
    states: tuple[tuple[int, OpenCalls], ...]
    """The call counter and the open calls after each message."""


_LAST: dict[tuple[int, ...], _Conversion] = {}
"""The last conversion of each conversation, by the ids of its first two messages (the system prompt, shared by
an agent's conversations, and the task); they are kept alive in the value, so the ids cannot be reused while the
entry lives."""
_LIMIT = 256
_EMPTY = _Conversion((), (), (), (), ())


def to_openai_messages(messages: Iterable[WireMessage]) -> list[dict[str, Any]]:
    """OpenAI chat messages for `messages`, reusing what the last conversion of this conversation still holds."""
    messages = list(messages)
    if not messages:
        return []
    key = tuple(map(id, messages[:2]))
    last = _LAST.get(key)
    same = _same_prefix(messages, last) if last is not None else 0
    if last is None or not same:
        last = _EMPTY
    if same == len(messages) == len(last.sources):
        return list(last.out)
    out, states = list(last.out[:same]), list(last.states[:same])
    counter, open_calls = states[-1] if states else (0, ())
    for message in messages[same:]:
        converted, counter, open_calls = _one(message, counter, open_calls)
        out.append(converted)
        states.append((counter, open_calls))
    added = messages[same:]
    if len(_LAST) >= _LIMIT:
        _LAST.clear()
    _LAST[key] = _Conversion(
        tuple(messages),
        last.contents[:same] + tuple(message.get("content") for message in added),
        last.calls[:same] + tuple(message.get("tool_calls") for message in added),
        tuple(out),
        tuple(states),
    )
    return out


def _same_prefix(messages: list[WireMessage], last: _Conversion) -> int:
    """How many leading messages are the ones `last` converted, unchanged."""
    same = 0
    for message, source, content, calls in zip(messages, last.sources, last.contents, last.calls, strict=False):
        if message is not source or message.get("content") is not content or message.get("tool_calls") is not calls:
            break
        same += 1
    return same


def _one(message: WireMessage, counter: int, open_calls: OpenCalls) -> tuple[dict[str, Any], int, OpenCalls]:
    """One message converted, with the call counter and the open calls after it."""
    role = message.get("role")
    if role == "assistant" and message.get("tool_calls"):
        calls: list[dict[str, Any]] = []
        opened: OpenCalls = ()
        for call in message["tool_calls"]:
            function = _function(call.get("function", {}))
            call_id = str(call.get("id") or f"call_{counter}")
            counter += 1
            calls.append({"id": call_id, "type": "function", "function": function})
            opened += ((call_id, str(function["name"])),)
        return {"role": "assistant", "content": message.get("content") or "", "tool_calls": calls}, counter, opened
    if role == "tool":
        result_id = message.get("tool_call_id")
        if not result_id:
            result_id, open_calls = _take(open_calls, str(message.get("tool_name") or ""))
        if result_id is None:
            result_id = f"call_{counter}"  # a result with no call before it: still give the server an id
            counter += 1
        result = {"role": "tool", "tool_call_id": str(result_id), "content": message.get("content") or ""}
        return result, counter, open_calls
    plain = {key: value for key, value in message.items() if key not in ("thinking", "tool_name")}
    return plain, counter, open_calls


def _function(function: dict[str, Any]) -> dict[str, Any]:
    arguments = function.get("arguments", {})
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"name": function.get("name", ""), "arguments": text}


def _take(open_calls: OpenCalls, name: str) -> tuple[str | None, OpenCalls]:
    """The id of the first open call named `name` (else the first open one), and the calls left open."""
    for position, (call_id, call_name) in enumerate(open_calls):
        if call_name == name:
            return call_id, open_calls[:position] + open_calls[position + 1 :]
    return (open_calls[0][0], open_calls[1:]) if open_calls else (None, ())
