"""What an MCP tool talks to: a live session, or a stand-in that records or replays one (scenarios).

`override_sessions` is a scoped override, like the model seam's `override_transport`: while a scenario block
runs, every `mcp(...)` server opened for an agent gets its session from the scenario instead, so a replay serves
the recorded tool list and results and never starts the server, and a recording wraps the real session.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import mcp_types as types

if TYPE_CHECKING:
    from .client import McpServer


class McpSession(abc.ABC):
    """The calls an MCP tool needs; `McpConnection` is the live one."""

    label: str
    """How messages name the server (its command line or URL)."""

    @abc.abstractmethod
    def list_tools(self) -> list[types.Tool]:
        """Every tool the server offers now."""

    @abc.abstractmethod
    def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call a tool from synchronous code."""

    @abc.abstractmethod
    async def acall(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call a tool from any event loop."""

    def tools_changed(self) -> bool:
        """Whether the tool list changed since it was last read (`notifications/tools/list_changed`); resets."""
        return False

    def close(self) -> None:  # noqa: B027  (a stand-in holds nothing: ending it is optional)
        """End the session (nothing to end for a stand-in)."""

    async def aclose(self) -> None:
        """End the session without blocking the event loop."""
        self.close()


SessionFactory = Callable[["McpServer", Callable[[], McpSession]], McpSession]
"""Given the server asked for and a way to open its live session (not called on replay), the session to use."""

_OVERRIDE: ContextVar[SessionFactory | None] = ContextVar("castling_mcp_sessions", default=None)


@contextmanager
def override_sessions(factory: SessionFactory) -> Iterator[SessionFactory]:
    """Inside the block, servers opened for an agent get their session from `factory`."""
    token = _OVERRIDE.set(factory)
    try:
        yield factory
    finally:
        _OVERRIDE.reset(token)


def open_session(server: McpServer, live: Callable[[], McpSession]) -> McpSession:
    """The session for `server`: the scoped override's, if one is active, else a live one."""
    factory = _OVERRIDE.get()
    return factory(server, live) if factory is not None else live()
