"""Reading an OpenAI-compatible chat completion, streamed (SSE chunks) or whole, into a `ChatTurn`.

Tolerant of what real servers send (vLLM, TGI, llama.cpp and others): tool-call fragments keyed by `index` with
the id and name in the first one and `arguments` split anywhere; continuation fragments with `null` fields or
the id and name repeated (TGI); thinking under `reasoning_content` or `reasoning`, or both with the same text
(read once); usage in a last chunk with no choices; no `finish_reason` at all. Arguments that are not JSON are
repaired when only closing braces are missing (vLLM's hermes parser drops the last `}`, vllm#22885, #32152);
otherwise the call is reported as unreadable so the tools loop asks the model again instead of failing the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from castling.backbones.call import UNPARSABLE
from castling.backbones.parsing.lenient_json import loads_lenient
from castling.backbones.usage import Usage
from castling.backbones.wire import ChatTurn, OnDelta, RawToolCall

FINISH_REASONS = {"tool_calls": "stop", "function_call": "stop", "stop": "stop", "length": "length"}
"""OpenAI `finish_reason` → castling's `done_reason` (Ollama's words: a reply with calls ends with "stop")."""


class StreamFailed(Exception):
    """The server sent an error event inside the stream; `turn` holds what arrived before it."""

    def __init__(self, message: str, turn: ChatTurn) -> None:
        super().__init__(message)
        self.turn = turn


@dataclass
class _CallSlot:
    call_id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class TurnAssembler:
    """Feeds on completion chunks (or one whole completion) and builds the `ChatTurn`."""

    on_delta: OnDelta | None = None
    turn: ChatTurn = field(default_factory=ChatTurn)
    _slots: list[_CallSlot] = field(default_factory=list)
    _by_index: dict[int, _CallSlot] = field(default_factory=dict)

    def feed(self, chunk: Mapping[str, Any]) -> None:
        """One streamed chunk (`choices[0].delta`, `usage`), or an error event (raises `StreamFailed`)."""
        error = error_message(chunk)
        if error is not None:
            raise StreamFailed(error, self.turn)
        choices = chunk.get("choices") or []
        if choices:  # castling asks for one choice (n=1)
            self._delta(choices[0].get("delta") or {})
            self._finish(choices[0].get("finish_reason"))
        self._usage(chunk.get("usage"))

    def feed_completion(self, completion: Mapping[str, Any]) -> None:
        """A whole (non-streamed) completion: `choices[0].message` read as one delta."""
        error = error_message(completion)
        if error is not None:
            raise StreamFailed(error, self.turn)
        choices = completion.get("choices") or []
        if choices:
            message = dict(choices[0].get("message") or {})
            calls = message.get("tool_calls") or []
            message["tool_calls"] = [{"index": i, **call} for i, call in enumerate(calls)]
            self._delta(message)
            self._finish(choices[0].get("finish_reason"))
        self._usage(completion.get("usage"))

    def finish(self) -> ChatTurn:
        """The turn, with the assembled tool calls (unreadable arguments reported, not raised)."""
        self.turn.done_reason = self.turn.done_reason or "stop"  # some servers (TGI) send no finish_reason
        problems = []
        for slot in self._slots:
            arguments = read_arguments(slot.arguments)
            if arguments is None:
                problems.append(f"the arguments the server sent for {slot.name!r} are not JSON: {slot.arguments!r}")
            else:
                self.turn.tool_calls.append(RawToolCall(slot.name, arguments))
        if problems:
            if self.turn.done_reason == "length":
                problems.append("the reply was cut off by the output limit (num_predict / max_tokens)")
            self.turn.done_reason = UNPARSABLE
            self.turn.metrics["error"] = "; ".join(problems)
        return self.turn

    # -- pieces ----------------------------------------------------------------------------------------------
    def _delta(self, delta: Mapping[str, Any]) -> None:
        thinking = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(thinking, str) and thinking:
            self._emit("thinking", thinking)
        content = delta.get("content")
        if isinstance(content, str) and content:
            self._emit("text", content)
        for fragment in delta.get("tool_calls") or ():
            self._fragment(fragment)

    def _emit(self, kind: str, text: str) -> None:
        if kind == "thinking":
            self.turn.thinking += text
            if self.on_delta is not None:
                self.on_delta("thinking", text)
        else:
            self.turn.content += text
            if self.on_delta is not None:
                self.on_delta("text", text)

    def _fragment(self, fragment: Mapping[str, Any]) -> None:
        function = fragment.get("function") or {}
        call_id = fragment.get("id") or ""
        slot = self._slot(fragment.get("index"), call_id)
        if call_id and not slot.call_id:
            slot.call_id = call_id
        name = function.get("name")
        if name and not slot.name:
            slot.name = name  # servers that repeat the name on every fragment (TGI) send it whole each time
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            slot.arguments += arguments
        elif isinstance(arguments, Mapping):  # a few servers send an object instead of a string
            slot.arguments += json.dumps(arguments)

    def _slot(self, index: Any, call_id: str) -> _CallSlot:
        if not isinstance(index, int):  # no index: the call with this id, a new call, or the last one continued
            known = [slot for slot in self._slots if call_id and slot.call_id == call_id]
            if known:
                return known[0]
            if self._slots and not call_id:
                return self._slots[-1]
            index = -len(self._slots) - 1  # a key no indexed call uses
        slot = self._by_index.get(index)
        if slot is None or (call_id and slot.call_id and call_id != slot.call_id):
            slot = _CallSlot()  # a new id at a used index is a new call (servers that restart indexes per chunk)
            self._slots.append(slot)
            self._by_index[index] = slot
        return slot

    def _finish(self, reason: Any) -> None:
        if isinstance(reason, str) and reason:
            self.turn.done_reason = FINISH_REASONS.get(reason, reason)

    def _usage(self, usage: Any) -> None:
        if not isinstance(usage, Mapping):
            return
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        # The last usage wins: servers with continuous usage stats send a running total on every chunk.
        self.turn.usage = Usage(prompt_tokens=prompt, completion_tokens=completion, calls=1)
        self.turn.metrics.update(prompt_eval_count=prompt, eval_count=completion)


def read_arguments(text: str) -> dict[str, Any] | None:
    """Arguments as an object: empty means none; missing closing braces are restored; None if unreadable."""
    if not text.strip():
        return {}
    for candidate in (text, text + _missing_closers(text)):
        try:
            value = loads_lenient(candidate)
        except ValueError:
            continue
        return dict(value) if isinstance(value, Mapping) else None
    return None


def error_message(event: Mapping[str, Any]) -> str | None:
    """The text of an error body or event: `{"error": {...}}`, `{"error": "..."}` or `{"object": "error", ...}`."""
    error = event.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message") or error)
    if isinstance(error, str):
        return error
    if event.get("object") == "error":
        return str(event.get("message") or event)
    return None


def _missing_closers(text: str) -> str:
    """The `}` and `]` that would close what `text` left open (strings skipped)."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    return "" if in_string else "".join(reversed(stack))  # a string cut short is not guessed at
