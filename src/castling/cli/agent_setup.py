"""Building the agent a chat talks to, from its settings (rebuilt whenever a slash command changes them)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from castling.backbones.base import Backbone
from castling.backbones.registry import FALLBACK_FAMILY, backbone_class, family_for_model
from castling.backbones.server import AnyTransport, ModelServer
from castling.backbones.servers import make_server
from castling.cli.settings import ChatSettings
from castling.errors import ConfigError
from castling.tools.builtins import BUILTIN_TOOLS

if TYPE_CHECKING:  # langgraph and langchain-core load in the background while the prompt shows (see chat.py)
    from langchain_core.tools import BaseTool
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from castling.agents.agent import Agent
    from castling.tools.provider import ToolSet

RUNTIME_IMPORT = threading.Lock()
"""Held by the chat's background import of langgraph; tool modules (langchain-core) are imported under it too, so
two threads never import the same package at once (its circular imports can trip the deadlock detection)."""
ToolFactory = Callable[[], "BaseTool"]


@dataclass
class AgentFactory:
    """Makes backbones and agents that share one model server, one checkpointer and one set of tool instances."""

    server: ModelServer
    checkpointer: BaseCheckpointSaver[Any] | None
    """None until the chat has opened it (after the prompt first shows); agents are built only then."""
    extra_tools: Mapping[str, ToolFactory] = field(default_factory=dict)
    _tools: dict[str, BaseTool] = field(default_factory=dict)
    http_recorder: Callable[[Any], Any] | None = None
    """Wraps the fetch tool's transport so its traffic is recorded with the session (for `/save`)."""
    tool_sources: dict[str, str] = field(default_factory=dict)
    """Tool name → the MCP server it comes from (shown by `/tools`)."""
    tool_sets: list[ToolSet] = field(default_factory=list)
    """MCP sessions opened for this chat; closed with it."""

    @classmethod
    def create(
        cls,
        host: str | None,
        checkpointer: BaseCheckpointSaver[Any] | None,
        transport: AnyTransport | None = None,
        extra_tools: Mapping[str, ToolFactory] | None = None,
        *,
        server: str = "ollama",
        api_key: str | None = None,
    ) -> AgentFactory:
        """A factory talking to `host`, which speaks `server` (through `transport` when given, as tests do).

        `api_key`: the bearer key of an OpenAI-compatible server (held by the server object only).
        """
        made = make_server(server, host, api_key=api_key, transport=transport)
        return cls(made, checkpointer, dict(extra_tools or {}))

    def available_tools(self) -> list[str]:
        """Every tool name the chat knows, whether or not it is installed."""
        return sorted({*BUILTIN_TOOLS, *self.extra_tools, *self.tool_sources})

    def add_tool_set(self, server: str, tool_set: ToolSet) -> list[str]:
        """Offer an opened MCP server's tools (one session for the whole chat); returns their names."""
        self.tool_sets.append(tool_set)
        names = [tool.name for tool in tool_set.tools]
        for tool in tool_set.tools:
            if tool.name in self.available_tools():
                raise ConfigError(
                    f"the MCP server {server} offers a tool named {tool.name!r}, which the chat already has: "
                    "give that server a prefix (mcp(..., prefix='x_')) or leave one of them out."
                )
            self._tools[tool.name] = tool
            self.tool_sources[tool.name] = server
        return names

    def tool(self, name: str) -> BaseTool:
        """The instance of tool `name` (created once per chat, so sandboxes and clients persist)."""
        if name not in self._tools:
            with RUNTIME_IMPORT:  # tools import langchain-core: never while the chat's import thread does
                self._tools[name] = self._make_tool(name)
        return self._tools[name]

    def _make_tool(self, name: str) -> BaseTool:
        if name in self.extra_tools:
            return self.extra_tools[name]()
        builtin = BUILTIN_TOOLS.get(name)
        if builtin is None:
            raise ConfigError(f"Unknown tool {name!r}: available tools are {', '.join(self.available_tools())}.")
        try:
            return builtin.make(transport=self.http_recorder)
        except LookupError:
            raise ConfigError(
                f"The {name} tool is not installed in this version of castling (it is coming soon)."
            ) from None

    def backbone(self, settings: ChatSettings) -> tuple[Backbone, str | None]:
        """The backbone for the settings, and a note when it had to fall back to the Qwen class."""
        note = None
        family = settings.backbone
        if family is None:
            try:
                family = family_for_model(settings.model)
                cls: Any = backbone_class(family)
            except ConfigError:
                cls = backbone_class(FALLBACK_FAMILY)
                note = (
                    f"no backbone is registered for {settings.model!r} yet: using the Qwen backbone's native tool "
                    "calling with it"
                )
        else:
            cls = backbone_class(family)
        backbone: Backbone = cls(
            settings.model, think=settings.think, options=dict(settings.options), server=self.server
        )
        return backbone, note

    def check(self, settings: ChatSettings) -> tuple[Backbone, str, list[BaseTool], list[str], str | None]:
        """Everything `agent` needs but the agent itself: backbone, strategy, tools, asking tools, a note.

        Raises the ConfigError the user must fix; builds no graph, so it is fast once the tools exist.
        """
        backbone, note = self.backbone(settings)
        tools = [self.tool(name) for name in settings.tools]
        asking = [name for name in settings.tools if settings.approval_for(name) != "auto"]
        strategy = settings.strategy or backbone.profile.default_strategy  # both strategies can ask first
        return backbone, strategy, tools, asking, note

    def agent(
        self, settings: ChatSettings, approve: Callable[[str, Mapping[str, Any]], bool]
    ) -> tuple[Agent, str | None]:
        """An agent for the settings, with the chat's checkpointer and approval policy."""
        from castling.agents.agent import Agent

        backbone, strategy, tools, asking, note = self.check(settings)
        if self.checkpointer is None:
            raise RuntimeError("the chat builds agents only once its checkpointer is open")
        agent = Agent(
            backbone,
            tools,
            strategy=strategy,  # type: ignore[arg-type]
            system=settings.system,
            checkpointer=self.checkpointer,
            approve=approve if asking else None,  # no policy when nothing asks: no thread is forced on runs
        )
        return agent, note

    async def aclose(self) -> None:
        """Release the tools, the MCP sessions and the HTTP clients."""
        for tool_set in self.tool_sets:
            await tool_set.aclose()
        for tool in self._tools.values():
            closer = getattr(tool, "aclose", None)
            if callable(closer):
                await closer()
            elif callable(getattr(tool, "close", None)):
                tool.close()  # type: ignore[attr-defined]
        await self.server.aclose()
