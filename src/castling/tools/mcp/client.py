"""`mcp(...)`: the tools of an MCP server, for `Agent(tools=[...])`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import mcp_types as types
from langchain_core.tools import BaseTool

from castling.errors import ConfigError

from ._connection import McpConnection
from ._schema import for_small_models
from ._tool import McpTool
from ._transports import ServerSpec, server_spec


def mcp(
    command: str | Sequence[str] | None = None,
    *,
    url: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    headers: Mapping[str, str] | None = None,
    allow: Collection[str] | None = None,
    deny: Collection[str] = (),
    prefix: str = "",
    timeout: float = 60.0,
    start_timeout: float = 120.0,
) -> McpServer:
    """The tools of an MCP server, to pass in `Agent(tools=[...])` as is.

    Each agent gets its own session, opened when the agent is built (the tool list is needed then) and closed
    with the agent (`close()`/`aclose()`, a `with` block, or at interpreter exit). A server that exits is
    started again on the next call; the call that was running gets an error the model can read.

    Args:
        command: a stdio server: one string split like a shell would (`"npx -y pkg ."`) or a list of strings.
        url: a streamable-HTTP server (`"http://127.0.0.1:8000/mcp"`), instead of a command.
        env: environment variables added to the server process's (the SDK passes a safe default set, not
            all of yours: add the variables the server needs, API keys for example).
        cwd: the server process's working directory.
        headers: HTTP headers for a url= server (`{"Authorization": "Bearer ..."}`).
        allow: offer only these tools (by the server's names); an unknown name is an error.
        deny: never offer these tools.
        prefix: put before every tool name, to tell two servers' tools apart (`"fs_"`).
        timeout: seconds one call may take; the request is then cancelled on the server.
        start_timeout: seconds the server may take to start and answer the handshake (npx may download first).
    """
    spec = server_spec(
        command, url=url, env=env, cwd=cwd, headers=headers, timeout=timeout, start_timeout=start_timeout
    )
    return McpServer(spec, allow=frozenset(allow) if allow is not None else None, deny=frozenset(deny), prefix=prefix)


@dataclass(frozen=True)
class McpServer:
    """An MCP server's tools; a `ToolProvider`: each agent it is given to opens its own session."""

    spec: ServerSpec
    allow: frozenset[str] | None = None
    deny: frozenset[str] = frozenset()
    prefix: str = ""

    def open_tools(self) -> McpToolSet:
        """Start a session, list the tools and pick the allowed ones (raises if the server cannot start)."""
        connection = McpConnection(self.spec)
        try:
            listed = connection.list_tools()
            chosen = self._choose(listed)
        except BaseException:
            connection.close()
            raise
        tools: list[BaseTool] = [self._tool(connection, tool) for tool in chosen]
        return McpToolSet(connection=connection, tools=tools, server=self.spec.label)

    def _choose(self, listed: Sequence[types.Tool]) -> list[types.Tool]:
        names = [tool.name for tool in listed]
        unknown = sorted((self.allow or frozenset()) - set(names)) + sorted(self.deny - set(names))
        if unknown:
            raise ConfigError(
                f"The MCP server {self.spec.label} has no tool named {', '.join(map(repr, unknown))}. "
                f"Its tools: {', '.join(names) or 'none'}."
            )
        return [t for t in listed if (self.allow is None or t.name in self.allow) and t.name not in self.deny]

    def _tool(self, connection: McpConnection, tool: types.Tool) -> McpTool:
        return McpTool(
            name=self.prefix + tool.name,
            description=(tool.description or tool.title or tool.name).strip(),
            args_schema=for_small_models(tool.input_schema),
            connection=connection,
            remote_name=tool.name,
            metadata={"mcp_server": self.spec.label},
        )


@dataclass
class McpToolSet:
    """The tools one agent got from one MCP server, and their session."""

    connection: McpConnection
    tools: list[BaseTool]
    server: str

    def close(self) -> None:
        """End the session and stop the server process."""
        self.connection.close()

    async def aclose(self) -> None:
        """End the session without blocking the event loop."""
        await self.connection.aclose()
