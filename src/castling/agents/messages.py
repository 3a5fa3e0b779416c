"""langchain-core messages to and from Ollama's wire messages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from castling.agents.result import USAGE_KEY
from castling.backbones.base import Reply
from castling.backbones.usage import Usage
from castling.backbones.wire import ChatTurn, WireMessage


class WireCache:
    """Converts each message once per run instead of the whole history on every step.

    Keyed on the message object itself (kept alive here, so its id cannot be reused): a message replaced in
    the state, even under the same message id, is a new object and is converted afresh.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._items: dict[int, tuple[BaseMessage, WireMessage]] = {}
        self._system: WireMessage = {"role": "system", "content": ""}

    def to_wire(self, messages: Iterable[BaseMessage], system: str | None) -> list[WireMessage]:
        """The conversation as `/api/chat` messages, the system prompt first; each message converted once.

        The system message is the same dict while the prompt is the same, so every message of a resent
        conversation is the object sent before (the OpenAI wire converts only what follows those).
        """
        if system and self._system["content"] != system:
            self._system = {"role": "system", "content": system}
        wire: list[WireMessage] = [self._system] if system else []
        items = self._items
        for message in messages:
            hit = items.get(id(message))
            if hit is None or hit[0] is not message:
                if len(items) >= self._limit:
                    items.clear()
                hit = items[id(message)] = (message, _one(message))
            wire.append(hit[1])
        return wire


def _one(message: BaseMessage) -> WireMessage:
    if isinstance(message, AIMessage):
        out: WireMessage = {"role": "assistant", "content": message.text}
        if message.tool_calls:
            out["tool_calls"] = [{"function": {"name": c["name"], "arguments": c["args"]}} for c in message.tool_calls]
        return out
    if isinstance(message, ToolMessage):
        # Ollama matches results to calls by order and tool_name: its Python client sends no call ids.
        return {"role": "tool", "content": message.text, "tool_name": message.name or ""}
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.text}
    if isinstance(message, HumanMessage):
        return {"role": "user", "content": message.text}
    return {"role": "user", "content": message.text}


def reply_message(reply: Reply, turn: ChatTurn, call_ids: list[str], arguments: list[dict[str, Any]]) -> AIMessage:
    """The AIMessage recorded for one model reply."""
    extra: dict[str, Any] = {}
    if reply.thinking:
        extra["thinking"] = reply.thinking
    if reply.recovered:
        extra["recovered_tool_calls"] = True
    if reply.parse_errors:
        extra["parse_errors"] = reply.parse_errors
    usage = turn.usage
    return AIMessage(
        content=reply.text,
        tool_calls=[
            {"name": call.name, "args": args, "id": call_id, "type": "tool_call"}
            for call, args, call_id in zip(reply.calls, arguments, call_ids, strict=True)
        ],
        additional_kwargs=extra,
        response_metadata={"done_reason": turn.done_reason, USAGE_KEY: _usage_dict(usage)},
        usage_metadata={
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
    )


def _usage_dict(usage: Usage) -> dict[str, Any]:
    """`dataclasses.asdict(usage)` without its deep copies (the fields are numbers): ~10 µs less per step."""
    return {item.name: getattr(usage, item.name) for item in fields(usage)}
