"""The backbone protocol: what the agent runtime needs from a model family on a model server, and the `Reply` it gets.

`BaseBackbone` (`base.py`) is the implementation Qwen and Llama specialise; code that only calls a backbone
types it as `Backbone`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from castling.backbones.context import Compaction, ContextGuard
from castling.backbones.profiles import Profile
from castling.backbones.server import ModelInfo, ModelServer
from castling.backbones.wire import ChatTurn, OnDelta, RawToolCall, WireMessage, WireTool


@dataclass
class Reply:
    """A model reply as the agent uses it."""

    text: str
    thinking: str = ""
    calls: list[RawToolCall] = field(default_factory=list)
    recovered: bool = False
    """True when the calls were recovered from the text rather than sent as structured tool calls."""
    parse_errors: list[str] = field(default_factory=list)
    turn: ChatTurn = field(default_factory=ChatTurn)
    """The server-neutral reply it was read from: raw content, `done_reason`, usage."""
    compaction: Compaction | None = None
    """What was shrunk to make the request fit the context window, if anything."""


@runtime_checkable
class Backbone(Protocol):
    """What the agent runtime needs from a model family on a model server."""

    model: str
    profile: ClassVar[Profile]
    server: ModelServer
    context_guard: ContextGuard

    def chat(
        self,
        messages: list[WireMessage],
        *,
        tools: Sequence[WireTool] = (),
        schema: dict[str, Any] | None = None,
        on_delta: OnDelta | None = None,
    ) -> Reply:
        """One model call: `tools` offered (calls recovered from the text too) or a JSON `schema` to follow."""
        ...

    async def achat(
        self,
        messages: list[WireMessage],
        *,
        tools: Sequence[WireTool] = (),
        schema: dict[str, Any] | None = None,
        on_delta: OnDelta | None = None,
    ) -> Reply:
        """One model call (async)."""
        ...

    def settings(self, info: ModelInfo, *, with_tools: bool) -> tuple[dict[str, Any], bool | str | None]:
        """The `options` and `think` value a call sends, after checking the model can do what is asked."""
        ...

    def read_reply(self, turn: ChatTurn, *, with_tools: bool, tool_names: Collection[str] = ()) -> Reply:
        """Turn a raw reply into text, thinking and tool calls, recovering calls left in the text.

        `tool_names` are the tools offered, for text formats that depend on them (Llama's `<|python_tag|>`).
        """
        ...


@runtime_checkable
class ToolGuide(Protocol):
    """Optional backbone hook: system-prompt text the tools loop adds when tools are offered.

    For families whose chat template does not show the tools on every turn (llama3.x, ollama#6477).
    """

    def tool_guide(self, tools: Sequence[WireTool]) -> str | None:
        """Text to append to the system prompt of every tools-loop request, or None for none."""
        ...
