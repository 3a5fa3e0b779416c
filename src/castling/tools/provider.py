"""`ToolProvider`: an object that expands into tools when an agent is built (an MCP server, for one).

The agent's toolbox calls `open_tools()` once per agent and closes the returned `ToolSet` with the agent, so
whatever the tools hold (a server process, a session) lives exactly as long as the agent that uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from langchain_core.tools import BaseTool


@runtime_checkable
class ToolSet(Protocol):
    """Tools opened for one agent, and the means to release what they hold."""

    @property
    def tools(self) -> Sequence[BaseTool]:
        """The tools, in the order the model should see them."""
        ...

    def close(self) -> None:
        """Release the resources (called by `Agent.close`)."""
        ...

    async def aclose(self) -> None:
        """Release the resources (called by `Agent.aclose`)."""
        ...

    # Optional: `refresh() -> bool`, re-reading the tools when they changed (an MCP server's `list_changed`);
    # the toolbox calls it before each model call when present. Not in the protocol, so older sets still match.


@runtime_checkable
class ToolProvider(Protocol):
    """Something `Agent(tools=[...])` accepts that stands for several tools."""

    def open_tools(self) -> ToolSet:
        """Open the tools for one agent (for an MCP server: start it and list its tools)."""
        ...
