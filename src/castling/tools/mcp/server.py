"""`castling mcp`: castling's sandboxed `run_python`, `fetch` and `http_request` served over MCP.

Each tool keeps its own safety rules (the bubblewrap sandbox, the SSRF-safe fetcher): the server only adapts
them. `run_python` keeps state per MCP client session: one sandboxed worker per session, like one per agent
thread inside castling. Nothing but protocol messages goes to stdout; logs go to stderr.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

from langchain_core.tools import BaseTool
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from castling._version import __version__
from castling.errors import ConfigError

log = logging.getLogger(__name__)

TOOL_NAMES = ("python", "fetch", "http_request")
_INSTRUCTIONS = (
    "castling's tools: run_python runs Python in a bubblewrap sandbox (no network, state kept for this session); "
    "fetch reads web pages as Markdown and http_request calls JSON APIs, both refusing private addresses."
)


def build_tools(names: Sequence[str], *, explicit: bool) -> list[BaseTool]:
    """The castling tools to serve; a tool that cannot work here is an error if asked for by name, else skipped."""
    unknown = sorted(set(names) - set(TOOL_NAMES))
    if unknown:
        raise ConfigError(f"unknown tool(s) {', '.join(unknown)}: choose from {', '.join(TOOL_NAMES)}.")
    tools: list[BaseTool] = []
    for name in names:
        try:
            tools.append(_make(name))
        except Exception as exc:
            if explicit:
                raise
            print(f"castling mcp: not serving {name}: {exc}", file=sys.stderr)
    if not tools:
        raise ConfigError("no tool can be served here (see the messages above).")
    return tools


def _make(name: str) -> BaseTool:
    from castling import tools

    if name == "python":
        return tools.python()
    return tools.fetch() if name == "fetch" else tools.http_request()


def build_server(tools: Sequence[BaseTool], *, stdio: bool) -> MCPServer:
    """An MCP server offering `tools`, each call bound to the calling client's session."""
    server: MCPServer = MCPServer("castling", version=__version__, instructions=_INSTRUCTIONS, log_level="WARNING")
    sessions = _SessionKeys("stdio" if stdio else None)
    for tool in tools:
        server.add_tool(_as_function(tool, sessions), name=tool.name, description=tool.description)
    return server


class _SessionKeys:
    """A stable key per client session, which picks the sandbox session (the `thread_id`).

    Over stdio the process has exactly one client: one key. Over HTTP the `Mcp-Session-Id` header names the
    session (clients that use the initialize handshake get one); requests without it (the stateless 2026
    protocol) share one interpreter, rather than starting a sandbox per request.
    """

    def __init__(self, fixed: str | None) -> None:
        self._fixed = fixed

    def key(self, context: Context) -> str:
        if self._fixed is not None:
            return self._fixed
        header = (context.headers or {}).get("mcp-session-id")
        return f"http-{header}" if header else "http-without-session"


def _as_function(tool: BaseTool, sessions: _SessionKeys) -> Callable[..., Coroutine[Any, Any, str]]:
    """A function whose signature is the tool's arguments (the SDK builds the schema from it) plus the context."""
    schema = tool.args_schema
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise ConfigError(f"tool {tool.name} has no pydantic argument model and cannot be served over MCP.")
    parameters = [
        inspect.Parameter(
            field_name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if field.is_required() else field.default,
            annotation=Annotated[field.annotation, Field(description=field.description)],
        )
        for field_name, field in schema.model_fields.items()
    ]
    parameters.append(inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY, annotation=Context))

    async def call(**arguments: Any) -> str:
        context: Context = arguments.pop("context")
        config = {"configurable": {"thread_id": sessions.key(context)}}
        result = await tool.ainvoke(arguments, config=config)  # type: ignore[arg-type]
        return result if isinstance(result, str) else str(result)

    call.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": str}
    call.__name__ = tool.name
    return call


def serve(names: Sequence[str] | None = None, *, http_port: int | None = None) -> None:
    """Run the server until the client disconnects (stdio) or Ctrl-C (HTTP on 127.0.0.1:`http_port`)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    tools = build_tools(names or TOOL_NAMES, explicit=names is not None)
    server = build_server(tools, stdio=http_port is None)
    try:
        if http_port is None:
            server.run("stdio")
        else:
            print(
                f"castling mcp: serving {', '.join(t.name for t in tools)} at http://127.0.0.1:{http_port}/mcp",
                file=sys.stderr,
            )
            server.run("streamable-http", host="127.0.0.1", port=http_port)
    finally:
        for tool in tools:
            closer = getattr(tool, "close", None)
            if callable(closer):
                closer()
