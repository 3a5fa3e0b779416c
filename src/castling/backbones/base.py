"""The base that Qwen and Llama specialise.

A backbone is a model family on a model server. It owns the one model call the strategies make
(`chat` / `achat`): the settings it sends (options, `think`), the capability checks, the call itself through
its `ModelServer`, and the reading of the reply (native tool calls, or calls left in the text, recovered the
same way whichever server answered). Family and server are independent. The protocol and `Reply` are in
`protocol.py`; the call's trip through the context guard (fit, send, resend once if cut) in `call.py`.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Sequence
from typing import Any, ClassVar

from castling.backbones.call import UNPARSABLE, GuardedCall, unparsable_call
from castling.backbones.context import ContextGuard, ContextPolicy
from castling.backbones.memory import WindowChoice, choose_num_ctx, memory_budget, parse_size
from castling.backbones.parsing.qwen import ContentParse, parse_qwen_content, split_think
from castling.backbones.profiles import Profile
from castling.backbones.protocol import Backbone, Reply, ToolGuide
from castling.backbones.server import DEFAULT_TIMEOUT, AnyTransport, ModelInfo, ModelServer
from castling.backbones.servers import make_server
from castling.backbones.wire import ChatRequest, ChatTurn, OnDelta, WireMessage, WireTool
from castling.errors import (
    CapabilityMissing,
    ContextMemoryWarning,
    ModelStreamError,
    OllamaResponseError,
    ThinkingBudgetExhausted,
)
from castling.sansio import Flow, arun, io, run

__all__ = ["UNPARSABLE", "Backbone", "BaseBackbone", "OllamaBackbone", "Reply", "ToolGuide"]
"""`Backbone`, `Reply`, `ToolGuide` and `UNPARSABLE` moved to `protocol.py` and `call.py`; still importable here."""


class BaseBackbone:
    """Shared behaviour of the families; subclasses set `profile` and their text-call parser."""

    profile: ClassVar[Profile]

    def __init__(
        self,
        model: str,
        *,
        host: str | Sequence[str] | None = None,
        server: str | ModelServer = "ollama",
        api_key: str | None = None,
        think: bool | str | None = None,
        num_ctx: int | None = None,
        options: dict[str, Any] | None = None,
        keep_alive: str | float | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        transport: AnyTransport | None = None,
        ollama: ModelServer | None = None,
        kv_memory: int | str | None = None,
    ) -> None:
        """Configure the backbone.

        Args:
            model: model name as the server knows it, e.g. `qwen3:8b` (Ollama) or `Qwen/Qwen3-8B` (vLLM).
            host: the server's URL, or a list of URLs for a pool; Ollama defaults to `OLLAMA_HOST`, then
                `http://127.0.0.1:11434`.
            server: the API the host speaks, `ollama` (default) or `openai` (vLLM, SGLang, llama.cpp's server,
                LM Studio), or a `ModelServer` instance to share between backbones.
            api_key: bearer token for an OpenAI-compatible server that asks for one.
            think: `True`/`False` (or a level) to turn thinking on/off; `None` lets thinking models think.
            num_ctx: context window to request; defaults to the profile's, capped by the model's own.
            options: other Ollama options (`temperature`, `num_predict`, `seed`, ...).
            keep_alive: how long Ollama keeps the model loaded.
            timeout: seconds to wait for the server before `ModelTimeout`.
            transport: an httpx transport to send requests through (tests, recording, replay).
            ollama: an existing server to share between backbones (the name before `server=` took instances).
            kv_memory: memory the server's KV cache may use (bytes, or `"8GiB"`); the profile's window is capped
                to what fits. Default: `CASTLING_KV_MEMORY`, else half this machine's RAM for a local server,
                else no cap (see `castling.backbones.memory`).
        """
        self.model = model
        self.think = think
        self.num_ctx = num_ctx
        self.options = dict(options or {})
        self.keep_alive = keep_alive
        self.kv_memory = kv_memory
        if kv_memory is not None:
            parse_size(kv_memory)  # a bad size fails here, not at the first request
        self.window_choice: WindowChoice | None = None
        """The `num_ctx` last chosen and why (shown by the chat's `/context`)."""
        self.notices: list[str] = []
        """Warnings for the chat to show once (it empties the list)."""
        self._warned: set[str] = set()
        if ollama is not None:
            server = ollama
        self.context_guard = ContextGuard()
        """Estimates, compacts and checks each request against the context window (see `context.py`)."""
        self.server: ModelServer = (
            server
            if not isinstance(server, str)
            else make_server(server, host, api_key=api_key, timeout=timeout, transport=transport)
        )

    @property
    def ollama(self) -> ModelServer:
        """The model server (its name from when every server was Ollama)."""
        return self.server

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model!r}, host={self.server.host!r}, server={self.server.api!r})"

    # -- the one model call ----------------------------------------------------------------------------------
    def chat(
        self,
        messages: list[WireMessage],
        *,
        tools: Sequence[WireTool] = (),
        schema: dict[str, Any] | None = None,
        on_delta: OnDelta | None = None,
        context: ContextPolicy | None = None,
    ) -> Reply:
        return run(self.chat_flow(messages, tools, schema, on_delta, context))

    async def achat(
        self,
        messages: list[WireMessage],
        *,
        tools: Sequence[WireTool] = (),
        schema: dict[str, Any] | None = None,
        on_delta: OnDelta | None = None,
        context: ContextPolicy | None = None,
    ) -> Reply:
        return await arun(self.chat_flow(messages, tools, schema, on_delta, context))

    def chat_flow(
        self,
        messages: list[WireMessage],
        tools: Sequence[WireTool] = (),
        schema: dict[str, Any] | None = None,
        on_delta: OnDelta | None = None,
        context: ContextPolicy | None = None,
    ) -> Flow[Reply]:
        """`chat` and `achat` as one flow (see `castling.sansio`): fit, send, resend once if the server cut it."""
        server = self.server
        info = yield from io(server.show, server.ashow, self.model)
        call = GuardedCall(self, self.request(info, messages, tools, schema), info, context)
        for _ in range(2):
            fit = call.fit()
            summary = (yield from io(server.chat, server.achat, fit.summarise)) if fit.summarise is not None else None
            try:
                turn = yield from io(server.chat, server.achat, call.send(fit, summary), on_delta)
            except (ModelStreamError, OllamaResponseError) as exc:
                turn = unparsable_call(exc, offered=bool(tools))
            if not call.cut(turn):
                break
        return call.reply(self._read(turn, tools, schema))

    def request(
        self, info: ModelInfo, messages: list[WireMessage], tools: Sequence[WireTool], schema: dict[str, Any] | None
    ) -> ChatRequest:
        """The server-neutral request for one call, after checking the model can do what it asks."""
        options, think = self.settings(info, with_tools=bool(tools))
        return ChatRequest(
            model=self.model,
            messages=messages,
            tools=list(tools) or None,
            think=think,
            format=schema,
            options=options,
            keep_alive=self.keep_alive,
        )

    def _read(self, turn: ChatTurn, tools: Sequence[WireTool], schema: dict[str, Any] | None) -> Reply:
        if schema is not None:  # the caller validates structured output and says what went wrong itself
            return Reply(turn.content, turn.thinking, turn=turn)
        names = [tool["function"]["name"] for tool in tools]
        reply = self.read_reply(turn, with_tools=bool(tools), tool_names=names)
        if turn.done_reason == UNPARSABLE:
            reply.parse_errors.append(turn.metrics["error"])
        return reply

    def settings(self, info: ModelInfo, *, with_tools: bool) -> tuple[dict[str, Any], bool | str | None]:
        if with_tools and not info.supports_tools:
            have = ", ".join(sorted(info.capabilities))
            raise CapabilityMissing(
                f"Model {self.model!r} does not support tools (its capabilities: {have})."
                " Use a tool-capable model such as qwen3:8b or llama3.1:8b, or Agent(..., strategy='plan'),"
                " which does not need the tools capability.",
                host=self.server.host,
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
        reply.turn = turn
        return reply

    def tool_guide(self, tools: Sequence[WireTool]) -> str | None:
        """No extra system prompt by default: the chat template shows the tools (see `ToolGuide`)."""
        return None

    def parse_text_calls(self, content: str, tool_names: Collection[str] = ()) -> ContentParse:
        """Recover calls left in the reply text; the Qwen/Hermes forms by default."""
        return parse_qwen_content(content)

    def _options(self, info: ModelInfo) -> dict[str, Any]:
        options = dict(self.options)
        options["num_ctx"] = self.choose_window(info).num_ctx
        return options

    def choose_window(self, info: ModelInfo) -> WindowChoice:
        """The `num_ctx` to send: asked for, or the profile's capped by what fits in memory; warns once if too big."""
        asked = self.num_ctx or self.options.get("num_ctx")
        budget = memory_budget(self.kv_memory, self.server.host)
        if not asked and budget is None:  # nothing known of the memory: no long-context default either
            wanted = self.profile.default_num_ctx
        else:
            wanted = int(asked or self.profile.wanted_num_ctx(self.model))
        choice = choose_num_ctx(
            self.model,
            wanted,
            bool(asked),
            info.context_length,
            info.kv_values_per_token,
            budget,
            self.profile.default_num_ctx,
        )
        if choice.warning and choice.warning not in self._warned:
            self._warned.add(choice.warning)
            self.notices.append(choice.warning)
            warnings.warn(choice.warning, ContextMemoryWarning, stacklevel=4)
        self.window_choice = choice
        return choice

    def _think(self, info: ModelInfo) -> bool | str | None:
        can_think = info.supports_thinking and self.profile.thinks  # an OpenAI server's "thinking" is assumed
        if self.think in (None, False) and not can_think:
            return None  # sending think to a model without it is a 400 (Ollama), or a flag its template ignores
        if self.think not in (None, False) and not can_think:
            raise CapabilityMissing(
                f"Model {self.model!r} does not support thinking: create the backbone with think=False "
                "(or leave think unset), or use a thinking model such as qwen3:8b.",
                host=self.server.host,
                model=self.model,
                capability="thinking",
            )
        return True if self.think is None else self.think

    def _budget_spent(self, thinking: str) -> ThinkingBudgetExhausted:
        limit = self.options.get("num_predict", "the default")
        return ThinkingBudgetExhausted(
            f"Model {self.model!r} spent its whole output budget (num_predict={limit}) thinking and gave no answer."
            " Raise num_predict (options={'num_predict': ...}) or turn thinking off (think=False).",
            host=self.server.host,
            model=self.model,
            thinking=thinking,
        )


OllamaBackbone = BaseBackbone
"""The base's name from when every backbone was served by Ollama; kept for users' subclasses."""


def _join(first: str, second: str) -> str:
    return "\n".join(part for part in (first.strip(), second.strip()) if part)
