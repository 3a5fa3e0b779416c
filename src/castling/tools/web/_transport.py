"""An httpx transport that connects only to addresses the policy checked.

The request URL keeps the host as written (so Host, SNI, certificate checks and any recorder wrapping this
transport see the real URL); only the socket is opened to the resolved, checked IP. Resolving once and connecting
to that result leaves no DNS-rebinding window between the check and the connect.
"""

from __future__ import annotations

import ssl
import typing

import httpcore
import httpx

from castling.tools.web._policy import AddressPolicy, AddressRefused, normalize_host, parse_ip_literal_safe
from castling.tools.web._resolver import Resolver, SystemResolver


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """A network backend whose `connect_tcp` resolves through the policy-checked resolver."""

    def __init__(
        self, policy: AddressPolicy, resolver: Resolver, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        literal = parse_ip_literal_safe(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = await self._resolver.resolve(normalize_host(host), port)
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        self._policy.check_addresses(host, addresses)
        error: Exception | None = None
        for ip in addresses:  # every one was checked above; try them in order
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are not reachable through the web tools")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` whose connection pool uses `PinnedBackend`; ignores proxy variables."""

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver | None = None,
        *,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | bool = True,
        max_connections: int = 10,
    ) -> None:
        # The parent's own pool is replaced below; verify=False only spares it loading the CA bundle for nothing.
        super().__init__(verify=False, trust_env=False)
        ssl_context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        # Replacing the pool is the one way httpx lets a custom network backend in (0.28).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=PinnedBackend(policy, resolver or SystemResolver(), network_backend),
        )
