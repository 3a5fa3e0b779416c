"""Values that cross the wire to and from Ollama's `/api/chat`, independent of the client library."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from castling.backbones.usage import Usage

WireMessage = dict[str, Any]
"""One message as Ollama's `/api/chat` takes it: role, content, and tool_calls / tool_name where they apply."""
WireTool = dict[str, Any]
"""One tool as Ollama takes it: `{"type": "function", "function": {name, description, parameters}}`."""
DeltaKind = Literal["text", "thinking"]
OnDelta = Callable[[DeltaKind, str], None]
"""Receives each streamed piece of text or thinking as it arrives."""


@dataclass(frozen=True)
class RawToolCall:
    """A tool call as the server parsed it: a name and an argument object (ids and indexes are not kept)."""

    name: str
    arguments: Mapping[str, Any]


@dataclass
class ChatRequest:
    """Everything one `/api/chat` call sends."""

    model: str
    messages: list[WireMessage]
    tools: list[WireTool] | None = None
    think: bool | str | None = None
    format: str | dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    keep_alive: str | float | None = None


@dataclass
class ChatTurn:
    """One model reply, accumulated from the stream."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[RawToolCall] = field(default_factory=list)
    done_reason: str = ""
    usage: Usage = field(default_factory=Usage)
    metrics: dict[str, Any] = field(default_factory=dict)
    complete: bool = False
    """True once the server's final chunk arrived: a stream that ends without it was cut short."""


def merge_chunks(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The non-streamed form of a streamed reply: one object with the message parts concatenated."""
    merged = dict(chunks[-1]) if chunks else {}
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    for chunk in chunks:
        part = chunk.get("message") or {}
        message["content"] += part.get("content") or ""
        if part.get("thinking"):
            message["thinking"] = message.get("thinking", "") + part["thinking"]
        if part.get("tool_calls"):
            message.setdefault("tool_calls", []).extend(part["tool_calls"])
    merged["message"] = message
    return merged
