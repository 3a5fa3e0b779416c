"""Which URLs and addresses the web tools may reach.

Two checks, both needed: `check_url` runs before a request is sent (scheme, credentials, port, literal IPs,
known internal names) and `check_addresses` runs at connect time on the resolved addresses, which are then the
only ones connected to (see `_transport.py`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import httpx

from castling.tools.web._address import METADATA_HOSTNAMES, IPAddress, classify, host_repr, parse_ip_literal

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".intranet", ".lan")


class AddressRefused(Exception):
    """A URL or address the policy refuses; the message is one line for the model."""


@dataclass(frozen=True)
class AddressPolicy:
    """The address rules shared by the fetch tools.

    `allow_hosts` entries are host names (`intranet.local`, `*.corp.example`), IP literals or networks
    (`10.1.0.0/16`): the explicit opt-in for internal hosts, which may then also use any port.
    """

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    ports: frozenset[int] | None = field(default_factory=lambda: frozenset({80, 443}))

    @classmethod
    def build(cls, allow_hosts: Iterable[str] = (), ports: Iterable[int] | None = (80, 443)) -> AddressPolicy:
        """Split `allow_hosts` into names and networks."""
        names: set[str] = set()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow_hosts:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(normalize_host(entry))
        return cls(frozenset(names), tuple(networks), None if ports is None else frozenset(ports))

    def host_allowed(self, host: str) -> bool:
        """True if the user opted this host name in."""
        name = normalize_host(host)
        return name in self.allow_hosts or any(p.startswith("*.") and name.endswith(p[1:]) for p in self.allow_hosts)

    def ip_allowed(self, ip: IPAddress) -> bool:
        """True if the address lies in an allow-listed network."""
        return any(ip.version == n.version and ip in n for n in self.allow_networks)

    def check_url(self, url: httpx.URL) -> None:
        """Refuse URLs that must never be requested, before any resolution or connection."""
        if url.scheme not in ("http", "https"):
            raise AddressRefused(f"only http and https URLs can be fetched, not {url.scheme or 'a relative'} URL")
        if url.userinfo:
            raise AddressRefused("URLs with credentials (user:password@host) are refused")
        host = url.raw_host.decode("ascii")  # IDN hosts as punycode, the form that is resolved and connected
        if not host:
            raise AddressRefused("the URL has no host")
        literal = parse_ip_literal_safe(host)
        allowed = self.host_allowed(host) or (literal is not None and self.ip_allowed(literal))
        port = url.port or (443 if url.scheme == "https" else 80)
        if self.ports is not None and port not in self.ports and not allowed:
            raise AddressRefused(f"port {port} is not allowed (allowed: {', '.join(map(str, sorted(self.ports)))})")
        self._check_name(host, allowed)

    def _check_name(self, host: str, allowed: bool) -> None:
        name = normalize_host(host)
        try:
            ip = parse_ip_literal(name)
        except ValueError as exc:
            raise AddressRefused(f"{host_repr(host)} is not a valid address: {exc}") from exc
        if ip is not None:
            self.check_addresses(host, [ip])
            return
        if name in METADATA_HOSTNAMES:
            raise AddressRefused(f"{host_repr(host)} is a cloud metadata service and is never fetched")
        if not allowed and (name == "localhost" or name.endswith(_LOCAL_SUFFIXES) or "." not in name):
            raise AddressRefused(f"{host_repr(host)} is an internal host name; add it to allow_hosts to permit it")

    def check_addresses(self, host: str, addresses: Sequence[IPAddress]) -> None:
        """Refuse if any address of the host is internal; one bad address poisons the name."""
        if not addresses:
            raise AddressRefused(f"{host_repr(host)} did not resolve to any address")
        host_ok = self.host_allowed(host)
        for ip in addresses:
            reason = classify(ip)
            if reason is None or (reason != "cloud metadata" and (host_ok or self.ip_allowed(ip))):
                continue
            shown = "" if parse_ip_literal_safe(host) == ip else f"{host_repr(host)} resolves to "
            hint = "" if reason.startswith("cloud metadata") else "; add the host to allow_hosts to permit it"
            raise AddressRefused(f"{shown}{ip} is a {reason} address and is refused{hint}")


def normalize_host(host: str) -> str:
    """Lower-case, punycode, strip brackets and trailing dots, so spellings of one name compare equal."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def parse_ip_literal_safe(host: str) -> IPAddress | None:
    """`parse_ip_literal` that returns None instead of raising."""
    try:
        return parse_ip_literal(normalize_host(host))
    except ValueError:
        return None
