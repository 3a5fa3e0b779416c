"""Where an MCP server is and how to reach it: a command over stdio, or a URL over streamable HTTP.

`watched` relays a transport's read stream so that the session's owner learns the moment the server goes away.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import anyio
import httpx2
from mcp.client._transport import Transport, TransportStreams
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from castling.errors import ConfigError


@dataclass(frozen=True)
class ServerSpec:
    """How to reach one MCP server, and the deadlines that apply to it."""

    command: tuple[str, ...] = ()
    url: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 60.0
    start_timeout: float = 120.0

    @property
    def label(self) -> str:
        """How messages name the server: its URL or its command line."""
        return self.url if self.url is not None else f"`{shlex.join(self.command)}`"


def server_spec(
    command: str | Sequence[str] | None,
    *,
    url: str | None,
    env: Mapping[str, str] | None,
    cwd: str | None,
    headers: Mapping[str, str] | None,
    timeout: float,
    start_timeout: float,
) -> ServerSpec:
    """Check the arguments of `mcp(...)` and say what is wrong when they cannot work."""
    if (command is None) == (url is None):
        raise ConfigError(
            "mcp() needs exactly one of a command (e.g. mcp('npx -y @modelcontextprotocol/server-filesystem .')) "
            "or url= (e.g. mcp(url='http://127.0.0.1:8000/mcp'))."
        )
    if timeout <= 0 or start_timeout <= 0:
        raise ConfigError(f"mcp() timeouts must be positive seconds, got timeout={timeout}, start={start_timeout}.")
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"mcp(url=...) must be an http:// or https:// URL, got {url!r}.")
        if env or cwd:
            raise ConfigError("env= and cwd= apply to a server command; a url= server runs elsewhere.")
        return ServerSpec(url=url, headers=dict(headers or {}), timeout=timeout, start_timeout=start_timeout)
    parts = tuple(shlex.split(command) if isinstance(command, str) else command or ())
    if not parts or not all(isinstance(part, str) and part for part in parts):
        raise ConfigError(f"mcp() got an empty or invalid command: {command!r}.")
    if headers:
        raise ConfigError("headers= apply to a url= server; pass env= to a command instead.")
    return ServerSpec(command=parts, env=dict(env or {}), cwd=cwd, timeout=timeout, start_timeout=start_timeout)


def open_transport(spec: ServerSpec, errlog: TextIO) -> Transport:
    """The SDK transport for `spec`; a command's stderr goes to `errlog` (shown when the server fails)."""
    if spec.url is not None:
        return _http(spec.url, spec.headers)
    parameters = StdioServerParameters(
        command=spec.command[0], args=list(spec.command[1:]), env=dict(spec.env) or None, cwd=spec.cwd
    )
    return stdio_client(parameters, errlog=errlog)


@contextlib.asynccontextmanager
async def _http(url: str, headers: Mapping[str, str]) -> AsyncIterator[TransportStreams]:
    # The SDK's default client is used unless headers are given; this one keeps its timeouts (30 s, read 300 s).
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with httpx2.AsyncClient(headers=dict(headers), timeout=timeout) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            yield streams


@contextlib.asynccontextmanager
async def watched(transport: Transport, gone: anyio.Event) -> AsyncIterator[TransportStreams]:
    """`transport` with its read stream relayed, so the owner learns the moment the server's output ends."""
    async with transport as (read, write):
        relay_send, relay_receive = anyio.create_memory_object_stream[Any](0)

        async def relay() -> None:
            try:
                async with relay_send:
                    async for item in read:
                        await relay_send.send(item)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass
            finally:
                gone.set()

        async with anyio.create_task_group() as group:
            group.start_soon(relay)
            try:
                yield relay_receive, write
            finally:
                group.cancel_scope.cancel()
                relay_receive.close()
