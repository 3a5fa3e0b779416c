"""One JSON-schema-constrained model call of the plan strategy, with one retry when the reply is unusable.

The call carries the pydantic model's JSON Schema (Ollama `format`, OpenAI `response_format`) and never `tools`
(ollama#10552). A reply cut off
by `num_predict` (`done_reason: "length"`) or not matching the schema is retried once with feedback; a second
failure raises `StructuredOutputError`, which names the cause and the fix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from langgraph.types import StreamWriter
from pydantic import BaseModel, ValidationError

from castling.agents.events import TextDelta, ThinkingDelta, UsageEvent, compaction_event
from castling.agents.plan.prompts import invalid_reply_note
from castling.agents.plan.stream import AnswerStream
from castling.backbones.base import Backbone, Reply
from castling.backbones.parsing.lenient_json import loads_lenient
from castling.backbones.tool_schema import inline_refs
from castling.backbones.usage import Usage
from castling.backbones.wire import ChatTurn, DeltaKind, OnDelta, WireMessage
from castling.errors import ModelStreamError, OllamaResponseError, StructuredOutputError
from castling.sansio import Flow, io

T = TypeVar("T", bound=BaseModel)
Fallback = Callable[[ChatTurn], "BaseModel | None"]
"""Reads a reply that ignored the schema (e.g. a Llama call written as text); None when it cannot."""


@dataclass
class Answer(Generic[T]):
    """A validated structured reply, the usage of the call(s) it took and the raw text of the accepted reply."""

    value: T
    usage: Usage
    content: str


@functools.cache
def json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with `$ref`s inlined, the form every grammar converter accepts.

    Cached: building a schema costs more than the rest of a scripted model call. Treat the result as read-only.
    """
    return inline_refs(schema.model_json_schema())


@dataclass
class FormatChoice:
    """A `format` schema narrower than the reply model's own, with that one as the fallback.

    A server whose schema-to-grammar converter refuses the narrow schema ("invalid JSON schema in format") gets
    the generic one from then on, for the rest of the agent's life.
    """

    narrow: dict[str, Any]
    generic: dict[str, Any]
    refused: bool = False

    @property
    def current(self) -> dict[str, Any]:
        """The schema to send now."""
        return self.generic if self.refused else self.narrow

    def refuse(self, exc: Exception) -> bool:
        """Switch to the generic schema if `exc` says the server refused the narrow one; True if it did."""
        text = str(exc).lower()
        if self.refused or not any(word in text for word in ("schema", "grammar")):
            return False
        self.refused = True
        return True


def read(turn: ChatTurn, schema: type[T], fallback: Fallback | None) -> tuple[T | None, str]:
    """The reply as `schema`, or None and the reason it is unusable."""
    if turn.done_reason == "length":
        return None, "it was cut off by the output limit (num_predict) before the JSON was complete; be brief"
    try:
        return schema.model_validate(loads_lenient(turn.content)), ""
    except (ValueError, ValidationError) as exc:
        reason = f"it is not valid JSON for the schema ({_brief(exc)})"
    if fallback is not None:
        value = fallback(turn)
        if isinstance(value, schema):
            return value, ""
    return None, reason


def retry_messages(messages: list[WireMessage], turn: ChatTurn, reason: str) -> list[WireMessage]:
    """The conversation for the retry: the bad reply and what was wrong with it."""
    return [
        *messages,
        {"role": "assistant", "content": turn.content},
        {"role": "user", "content": invalid_reply_note(reason)},
    ]


def failure(backbone: Backbone, schema: type[BaseModel], turn: ChatTurn, reason: str) -> StructuredOutputError:
    """The error after the retry also failed."""
    if turn.done_reason == "length" and turn.thinking and not turn.content:
        fix = "It spent the budget thinking: raise num_predict (options={'num_predict': ...}) or pass think=False."
    elif turn.done_reason == "length":
        fix = "Raise num_predict (options={'num_predict': ...}) or use a larger model."
    else:
        fix = "Use a model that follows JSON-schema output (e.g. llama3.1:8b, qwen3:8b) or strategy='tools'."
    return StructuredOutputError(
        f"Model {backbone.model!r} gave no usable {schema.__name__} twice: {reason}. {fix}",
        host=backbone.server.host,
        model=backbone.model,
        content=turn.content,
        done_reason=turn.done_reason,
    )


def ask(
    backbone: Backbone,
    messages: list[WireMessage],
    schema: type[T],
    writer: StreamWriter,
    fallback: Fallback | None = None,
    choice: FormatChoice | None = None,
    stream: AnswerStream | None = None,
) -> Flow[Answer[T]]:
    """Ask for `schema`, retrying once; `choice` narrows the `format` sent, `stream` shows the answer.

    A flow (`castling.sansio`): the nodes `yield from` it, under `invoke` and `ainvoke` alike.
    """
    usage, sent = Usage(), messages
    deltas = reply_deltas(writer, stream)
    chat, achat = backbone.chat, backbone.achat
    for attempt in range(2):
        if stream is not None:
            stream.begin_attempt()
        try:
            reply = yield from io(chat, achat, sent, schema=_format(schema, choice), on_delta=deltas)
        except (OllamaResponseError, ModelStreamError) as exc:
            if choice is None or not choice.refuse(exc):
                raise
            reply = yield from io(chat, achat, sent, schema=choice.current, on_delta=deltas)
        turn = _seen(reply, writer)
        usage = _count(usage, turn, writer)
        value, reason = read(turn, schema, fallback)
        if value is not None:
            return Answer(value, usage, turn.content)
        if attempt == 0:
            sent = retry_messages(messages, turn, reason)
    raise failure(backbone, schema, turn, reason)


def _seen(reply: Reply, writer: StreamWriter) -> ChatTurn:
    """The reply's turn, after telling the stream what compaction did to the request, if anything."""
    if reply.compaction is not None:
        writer(compaction_event(reply.compaction))
    return reply.turn


def _format(schema: type[BaseModel], choice: FormatChoice | None) -> dict[str, Any]:
    """The JSON schema to send: `choice.current` when the caller narrows it, else the reply model's own."""
    return choice.current if choice is not None else json_schema(schema)


def reply_deltas(writer: StreamWriter, stream: AnswerStream | None = None) -> OnDelta:
    """Stream thinking as it comes, and the answer field through `stream`; the rest of the JSON is not shown."""

    def emit(kind: DeltaKind, text: str) -> None:
        if kind == "thinking":
            writer(ThinkingDelta(text))
        elif stream is not None:
            shown = stream.feed(text)
            if shown:
                writer(TextDelta(shown))

    return emit


def _count(usage: Usage, turn: ChatTurn, writer: StreamWriter) -> Usage:
    writer(UsageEvent(turn.usage))
    return usage + turn.usage


def _brief(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())
    return str(exc)[:120]
