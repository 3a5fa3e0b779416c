"""The backbone protocol and the Ollama-backed base that Qwen and Llama specialise.

A backbone carries one model family's wire quirks: the options and `think` setting it sends, how it reads a
reply (native tool calls, or calls left in the text), and its profile (default strategy, context size).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from castling.backbones.ollama import DEFAULT_TIMEOUT, AnyTransport, ModelInfo, OllamaTransport
from castling.backbones.parsing.qwen import ContentParse, parse_qwen_content, split_think
from castling.backbones.profiles import Profile
from castling.backbones.wire import ChatTurn, RawToolCall, WireTool
from castling.errors import CapabilityMissing, ThinkingBudgetExhausted


@dataclass
class Reply:
    """A model reply as the agent uses it."""

    text: str
    thinking: str = ""
    calls: list[RawToolCall] = field(default_factory=list)
    recovered: bool = False
    """True when the calls were recovered from the text rather than sent as structured tool calls."""
    parse_errors: list[str] = field(default_factory=list)


@runtime_checkable
class Backbone(Protocol):
    """What the agent runtime needs from a model family."""

    model: str
    profile: ClassVar[Profile]
    ollama: OllamaTransport

    def settings(self, info: ModelInfo, *, with_tools: bool) -> tuple[dict[str, Any], bool | str | None]:
        """The Ollama `options` and `think` value to send, after checking the model can do what is asked."""
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


class OllamaBackbone:
    """Shared behaviour of the Ollama-served families; subclasses set `profile` and their text-call parser."""

    profile: ClassVar[Profile]

    def __init__(
        self,
        model: str,
        *,
        host: str | None = None,
        think: bool | str | None = None,
        num_ctx: int | None = None,
        options: dict[str, Any] | None = None,
        keep_alive: str | float | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        transport: AnyTransport | None = None,
        ollama: OllamaTransport | None = None,
    ) -> None:
        """Configure the backbone.

        Args:
            model: Ollama model name, e.g. `qwen3:8b`.
            host: Ollama server; defaults to `OLLAMA_HOST`, then `http://127.0.0.1:11434`.
            think: `True`/`False` (or a level) to turn thinking on/off; `None` lets thinking models think.
            num_ctx: context window to request; defaults to the profile's, capped by the model's own.
            options: other Ollama options (`temperature`, `num_predict`, `seed`, ...).
            keep_alive: how long Ollama keeps the model loaded.
            timeout: seconds to wait for the server before `ModelTimeout`.
            transport: an httpx transport to send requests through (tests, recording, replay).
            ollama: an existing transport to share between backbones.
        """
        self.model = model
        self.think = think
        self.num_ctx = num_ctx
        self.options = dict(options or {})
        self.keep_alive = keep_alive
        self.ollama = ollama or OllamaTransport(host, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model!r}, host={self.ollama.host!r})"

    def settings(self, info: ModelInfo, *, with_tools: bool) -> tuple[dict[str, Any], bool | str | None]:
        if with_tools and not info.supports_tools:
            have = ", ".join(sorted(info.capabilities))
            raise CapabilityMissing(
                f"Model {self.model!r} does not support tools (its capabilities: {have})."
                " Use a tool-capable model such as qwen3:8b or llama3.1:8b, or Agent(..., strategy='plan'),"
                " which does not need the tools capability.",
                host=self.ollama.host,
                model=self.model,
                capability="tools",
            )
        return self._options(info), self._think(info)

    def read_reply(self, turn: ChatTurn, *, with_tools: bool, tool_names: Collection[str] = ()) -> Reply:
        parsed = self.parse_text_calls(turn.content, tool_names) if with_tools and not turn.tool_calls else None
        if parsed is None:
            text, inline_thinking = split_think(turn.content)
            reply = Reply(text.strip(), _join(turn.thinking, inline_thinking), list(turn.tool_calls))
        else:
            reply = Reply(parsed.text, _join(turn.thinking, parsed.thinking), parsed.calls, bool(parsed.calls))
            reply.parse_errors = parsed.errors
        if turn.done_reason == "length" and not reply.text and not reply.calls and reply.thinking:
            raise self._budget_spent(reply.thinking)
        return reply

    def tool_guide(self, tools: Sequence[WireTool]) -> str | None:
        """No extra system prompt by default: the chat template shows the tools (see `ToolGuide`)."""
        return None

    def parse_text_calls(self, content: str, tool_names: Collection[str] = ()) -> ContentParse:
        """Recover calls left in the reply text; the Qwen/Hermes forms by default."""
        return parse_qwen_content(content)

    def _options(self, info: ModelInfo) -> dict[str, Any]:
        options = dict(self.options)
        wanted = self.num_ctx or options.get("num_ctx") or self.profile.default_num_ctx
        options["num_ctx"] = min(wanted, info.context_length) if info.context_length else wanted
        return options

    def _think(self, info: ModelInfo) -> bool | str | None:
        if self.think in (None, False) and not info.supports_thinking:
            return None  # sending think to a model without it is a 400
        if self.think not in (None, False) and not info.supports_thinking:
            raise CapabilityMissing(
                f"Model {self.model!r} does not support thinking: create the backbone with think=False "
                "(or leave think unset), or use a thinking model such as qwen3:8b.",
                host=self.ollama.host,
                model=self.model,
                capability="thinking",
            )
        return True if self.think is None else self.think

    def _budget_spent(self, thinking: str) -> ThinkingBudgetExhausted:
        limit = self.options.get("num_predict", "the default")
        return ThinkingBudgetExhausted(
            f"Model {self.model!r} spent its whole output budget (num_predict={limit}) thinking and gave no answer."
            " Raise num_predict (options={'num_predict': ...}) or turn thinking off (think=False).",
            host=self.ollama.host,
            model=self.model,
            thinking=thinking,
        )


def _join(first: str, second: str) -> str:
    return "\n".join(part for part in (first.strip(), second.strip()) if part)
