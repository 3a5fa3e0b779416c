"""Host name resolution, injectable so tests map names to addresses without real DNS."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, runtime_checkable

from castling.tools.web._address import IPAddress, parse_ip_literal


@runtime_checkable
class Resolver(Protocol):
    """Turns a host name into the addresses to check and connect to."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Return every address of `host`; raise `OSError` if it does not resolve."""
        ...


class SystemResolver:
    """The operating system's resolver (`getaddrinfo`), run without blocking the event loop."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        seen: dict[IPAddress, None] = {}
        for _family, _type, _proto, _name, sockaddr in infos:
            ip = parse_ip_literal(str(sockaddr[0]))
            if ip is not None:
                seen[ip] = None
        return list(seen)


class StaticResolver:
    """A fixed name → addresses table (for tests and air-gapped setups); unknown names do not resolve.

    A value may also be a callable returning the addresses, to simulate answers that change (DNS rebinding).
    """

    def __init__(self, table: Mapping[str, Iterable[str] | Callable[[], Iterable[str]]]) -> None:
        self._table = {k.lower().rstrip("."): v for k, v in table.items()}
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        key = host.lower().rstrip(".")
        self.calls.append(key)
        entry = self._table.get(key)
        if entry is None:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} does not resolve")
        values = entry() if callable(entry) else entry
        return [ip for ip in (parse_ip_literal(v) for v in values) if ip is not None]
