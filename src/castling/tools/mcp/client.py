"""`mcp(...)`: the tools of an MCP server, for `Agent(tools=[...])`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import mcp_types as types
from langchain_core.tools import BaseTool

from castling.errors import ConfigError

from ._connection import McpConnection
from ._schema import for_small_models
from ._session import McpSession, open_session
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
    name: str | None = None,
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
        name: what a scenario recording calls this server (default: its command line or URL). Give one when
            the command differs between machines (an interpreter's path), so a recording replays anywhere.
    """
    spec = server_spec(
        command, url=url, env=env, cwd=cwd, headers=headers, timeout=timeout, start_timeout=start_timeout
    )
    if name is not None and not name.strip():
        raise ConfigError("mcp(name=...) must be a non-empty name, e.g. name='files'.")
    chosen = frozenset(allow) if allow is not None else None
    return McpServer(spec, allow=chosen, deny=frozenset(deny), prefix=prefix, name=name)


@dataclass(frozen=True)
class McpServer:
    """An MCP server's tools; a `ToolProvider`: each agent it is given to opens its own session."""

    spec: ServerSpec
    allow: frozenset[str] | None = None
    deny: frozenset[str] = frozenset()
    prefix: str = ""
    name: str | None = None

    @property
    def key(self) -> str:
        """The server's name in scenario recordings: `name=`, else its command line or URL."""
        return self.name if self.name is not None else self.spec.label

    def open_tools(self) -> McpToolSet:
        """Start a session, list the tools and pick the allowed ones (raises if the server cannot start).

        Inside a scenario block the session comes from the scenario (`override_sessions`): a replay serves
        the recorded tools and results without starting the server.
        """
        return self.tools_from(open_session(self, lambda: McpConnection(self.spec)))

    def tools_from(self, session: McpSession) -> McpToolSet:
        """The allowed tools of `session`, which the tool set then owns (closed on error too)."""
        try:
            listed = session.list_tools()
            chosen = self._choose(listed)
        except BaseException:
            session.close()
            raise
        tools: list[BaseTool] = [self._tool(session, tool) for tool in chosen]
        return McpToolSet(connection=session, tools=tools, server=session.label, source=self)

    def relist(self, session: McpSession) -> list[BaseTool]:
        """The allowed tools after the server changed its list (a vanished allowed tool is no error then)."""
        return [self._tool(session, tool) for tool in self._choose(session.list_tools(), strict=False)]

    def _choose(self, listed: Sequence[types.Tool], *, strict: bool = True) -> list[types.Tool]:
        names = [tool.name for tool in listed]
        unknown = sorted((self.allow or frozenset()) - set(names)) + sorted(self.deny - set(names))
        if unknown and strict:
            raise ConfigError(
                f"The MCP server {self.spec.label} has no tool named {', '.join(map(repr, unknown))}. "
                f"Its tools: {', '.join(names) or 'none'}."
            )
        return [t for t in listed if (self.allow is None or t.name in self.allow) and t.name not in self.deny]

    def _tool(self, connection: McpSession, tool: types.Tool) -> McpTool:
        return McpTool(
            name=self.prefix + tool.name,
            description=(tool.description or tool.title or tool.name).strip(),
            args_schema=for_small_models(tool.input_schema),
            connection=connection,
            remote_name=tool.name,
            metadata={"mcp_server": connection.label},
        )


@dataclass
class McpToolSet:
    """The tools one agent got from one MCP server, and their session."""

    connection: McpSession
    tools: list[BaseTool]
    server: str
    source: McpServer | None = None
    """The server's choice of tools (`allow=`, `deny=`, `prefix=`), applied again when its list changes."""

    def refresh(self) -> bool:
        """Re-read the tools if the server said they changed (`notifications/tools/list_changed`); True if so."""
        if self.source is None or not self.connection.tools_changed():
            return False
        self.tools = self.source.relist(self.connection)
        return True

    def close(self) -> None:
        """End the session and stop the server process."""
        self.connection.close()

    async def aclose(self) -> None:
        """End the session without blocking the event loop."""
        await self.connection.aclose()
