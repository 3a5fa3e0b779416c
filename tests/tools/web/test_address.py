"""Address classification and URL checks, without any network."""

from __future__ import annotations

import httpx
import pytest

from castling.tools.web import AddressPolicy, AddressRefused
from castling.tools.web._address import classify, parse_ip_literal

INTERNAL_SPELLINGS = [
    ("127.0.0.1", "loopback"),
    ("2130706433", "loopback"),
    ("0x7f000001", "loopback"),
    ("0177.0.0.1", "loopback"),
    ("127.1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("[::1]", "loopback"),
    ("[::]", "unspecified"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("[::ffff:7f00:1]", "loopback"),
    ("[0:0:0:0:0:ffff:127.0.0.1]", "loopback"),
    ("[64:ff9b::7f00:1]", "loopback"),
    ("[2002:7f00:1::]", "loopback"),
    ("[::5efe:7f00:1]", "loopback"),  # ISATAP
    ("[2001:0:4136:e378:8000:63bf:80ff:fffe]", "loopback"),  # Teredo client 127.0.0.1
    ("169.254.169.254", "cloud metadata"),
    ("169.254.169.254.", "cloud metadata"),
    ("0xa9fea9fe", "cloud metadata"),
    ("[::ffff:169.254.169.254]", "cloud metadata"),
    ("[fd00:ec2::254]", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("168.63.129.16", "cloud metadata"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("169.254.1.1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("[fc00::1]", "private"),
    ("224.0.0.1", "multicast"),
    ("[ff02::1]", "multicast"),
    ("240.0.0.1", "reserved"),
    ("[64:ff9b:1::1]", "reserved"),
]


@pytest.mark.parametrize(("host", "reason"), INTERNAL_SPELLINGS)
def test_internal_spellings_are_classified(host: str, reason: str) -> None:
    ip = parse_ip_literal(host)
    assert ip is not None
    assert (classify(ip) or "").startswith(reason)


@pytest.mark.parametrize("host", ["8.8.8.8", "93.184.216.34", "[2606:4700:4700::1111]", "1.1.1.1"])
def test_public_addresses_pass(host: str) -> None:
    ip = parse_ip_literal(host)
    assert ip is not None and classify(ip) is None


def test_names_are_not_ip_literals() -> None:
    assert parse_ip_literal("example.com") is None
    assert parse_ip_literal("0x1g.example") is None
    with pytest.raises(ValueError, match="invalid"):
        parse_ip_literal("999.1.1.1")


URL_REFUSALS = [
    ("file:///etc/passwd", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("data:text/html,hi", "only http and https"),
    ("ftp://example.com/", "only http and https"),
    ("gopher://example.com/", "only http and https"),
    ("dict://example.com:11211/", "only http and https"),
    ("ldap://example.com/", "only http and https"),
    ("http://user:pw@example.com/", "credentials"),
    ("http://example.com:22/", "port 22"),
    ("http://localhost/", "internal host name"),
    ("http://LOCALHOST./", "internal host name"),
    ("http://app.localhost/", "internal host name"),
    ("http://intranet/", "internal host name"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
    ("http://169.254.169.254./latest/meta-data/", "cloud metadata"),
    ("HTTP://127.0.0.1/", "loopback"),
    ("http://4294967296/", "not a valid address"),
]


@pytest.mark.parametrize(("url", "reason"), URL_REFUSALS)
def test_url_refusals_name_the_reason(url: str, reason: str) -> None:
    with pytest.raises(AddressRefused, match=reason) as info:
        AddressPolicy.build().check_url(httpx.URL(url))
    assert "\n" not in str(info.value)


def test_allow_hosts_opts_in_names_and_networks_but_never_metadata() -> None:
    policy = AddressPolicy.build(["intranet.local", "*.corp.example", "10.1.0.0/16"])
    policy.check_url(httpx.URL("http://intranet.local:8080/"))
    policy.check_url(httpx.URL("http://wiki.corp.example/"))
    policy.check_url(httpx.URL("http://10.1.2.3:9000/"))
    with pytest.raises(AddressRefused, match="private"):
        policy.check_url(httpx.URL("http://10.2.0.1/"))
    with pytest.raises(AddressRefused, match="cloud metadata"):
        AddressPolicy.build(["169.254.0.0/16"]).check_url(httpx.URL("http://169.254.169.254/"))
    ip = parse_ip_literal("127.0.0.1")
    assert ip is not None
    policy.check_addresses("intranet.local", [ip])  # allowed by name
    with pytest.raises(AddressRefused, match=r"'other.example' resolves to 127.0.0.1"):
        policy.check_addresses("other.example", [ip])
