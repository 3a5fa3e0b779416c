"""A tiny raw HTTP/1.1 server on loopback, so tests control every byte (lying lengths, drips, bombs)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpcore


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


def response(status: int = 200, body: bytes | str = b"", content_type: str = "text/html", **headers: str) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", f"Content-Length: {len(data)}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def static(status: int = 200, body: bytes | str = b"", content_type: str = "text/html", **headers: str) -> Handler:
    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(status, body, content_type, **headers))
        await writer.drain()

    return handle


@dataclass
class Server:
    """Counts every connection and request; routes map a path to a handler."""

    routes: dict[str, Handler] = field(default_factory=dict)
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def start(self) -> Server:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.close()
            await self._server.wait_closed()

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"{'https' if self.tls else 'http'}://{host or self.host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request = _parse(head)
                length = int(request.headers.get("content-length", "0"))
                request.body = await reader.readexactly(length) if length else b""
                self.requests.append(request)
                handler = self.routes.get(request.path.split("?")[0], static(404, "not found", "text/plain"))
                await handler(request, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def _parse(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return Request(method, path, headers, b"")


class LoopbackOnlyBackend(httpcore.AsyncNetworkBackend):
    """A safety net for tests: connects only to loopback and records any other attempt instead of sending it."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connected: list[str] = []
        self.blocked: list[str] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        if host not in ("127.0.0.1", "::1"):
            self.blocked.append(host)
            raise httpcore.ConnectError(f"test guard: no traffic to {host}")
        self.connected.append(host)
        return await self.inner.connect_tcp(host, port, timeout=timeout, local_address=local_address)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
