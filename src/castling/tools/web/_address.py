"""Classify IP addresses and parse every spelling of an IP literal.

Why so many spellings: the C resolver accepts `2130706433`, `0x7f000001`, `0177.0.0.1` and `127.1` as
127.0.0.1, and IPv6 can carry an IPv4 address inside (mapped, 6to4, NAT64, Teredo, ISATAP). A check that
only reads dotted quads lets all of them through, so we decode them all before classifying.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata endpoints; refused even for allow-listed hosts.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure IMDS, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS DNS
        "169.254.42.42",  # Scaleway
        "168.63.129.16",  # Azure wire server (a public address)
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
    )
)
METADATA_HOSTNAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "metadata.azure.internal"}
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_EXTRA_V4 = (
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("192.88.99.0/24"),
    ipaddress.ip_network("198.18.0.0/15"),
)
_LOOSE_V4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


def parse_ip_literal(host: str) -> IPAddress | None:
    """Return the address a host string denotes as an IP literal in any spelling, else None.

    Accepts what the C library's `inet_aton` accepts (1 to 4 parts, each decimal, `0x` hex or `0` octal; the
    last part fills the remaining bytes), bracketed or bare IPv6 (with a scope id), and a trailing dot.

    Raises:
        ValueError: the host is numeric but not a valid address (e.g. `999.1.1.1`); it must be refused.
    """
    h = host.strip().rstrip(".")
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if ":" in h:
        try:
            return ipaddress.IPv6Address(h)
        except ValueError:
            return None
    return _parse_loose_ipv4(h)


def _parse_loose_ipv4(h: str) -> ipaddress.IPv4Address | None:
    parts = h.split(".")
    if not h or len(parts) > 4 or not all(_LOOSE_V4_PART.match(p) for p in parts):
        return None
    values = [_loose_int(p) for p in parts]
    # Every part but the last is one byte; the last fills the remaining bytes.
    last_bits = 8 * (5 - len(values))
    if any(v > 255 for v in values[:-1]) or values[-1] >= 1 << last_bits:
        raise ValueError(f"invalid IPv4 address {host_repr(h)}")
    number = 0
    for v in values[:-1]:
        number = number << 8 | v
    number = number << last_bits | values[-1]
    return ipaddress.IPv4Address(number)


def _loose_int(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if any(c in "89" for c in part):
            raise ValueError(f"invalid octal number {part!r}")
        return int(part, 8)
    return int(part)


def host_repr(host: str) -> str:
    """Quote a host for a one-line message."""
    return repr(host[:80])


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 transition form carries (mapped, 6to4, NAT64, Teredo, ISATAP, compat)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if (int(ip) >> 32) & 0xFDFFFFFF == 0x00005EFE:  # ISATAP interface id ::[02]00:5efe:a.b.c.d
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify(ip: IPAddress) -> str | None:
    """Return why an address must not be fetched (e.g. "loopback"), or None for a public address."""
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%")[0])
        inner = embedded_ipv4(ip)
        if inner is not None:
            reason = classify(inner)
            return f"{reason} (embedded {inner})" if reason else None
        if ip in _NAT64_LOCAL:
            return "reserved"
    return _plain_reason(ip)


def _plain_reason(ip: IPAddress) -> str | None:
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (isinstance(ip, ipaddress.IPv4Address) and any(ip in n for n in _EXTRA_V4), "reserved"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (not ip.is_global, "not globally routable"),
    )
    return next((reason for hit, reason in checks if hit), None)
