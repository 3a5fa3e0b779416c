"""SSRF checklist against a real internal server on loopback: every attempt must reach it 0 times.

Ports are opened (`ports=None`) so the address check alone stands between the tool and the server; the
LoopbackOnlyBackend guard records (and drops) any connect to a non-loopback address, so no test sends traffic
off the machine even if the policy regressed.
"""

from __future__ import annotations

import pytest

from .server import LoopbackOnlyBackend, Server, static

LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "LocalHost.",
    "127.1",
    "0.0.0.0",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
]
OTHER_INTERNAL = [
    "169.254.169.254",
    "169.254.169.254.",
    "0xa9fea9fe",
    "[::ffff:169.254.169.254]",
    "[fd00:ec2::254]",
    "100.100.100.200",
    "168.63.129.16",
    "metadata.google.internal",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
]


def _assert_untouched(internal: Server, guard: LoopbackOnlyBackend, result: str) -> None:
    assert result.startswith("fetch refused:"), result
    assert "TOP-SECRET" not in result
    assert internal.connections == 0
    assert guard.blocked == []  # refused by the policy, not by the test's safety net


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
async def test_loopback_in_every_spelling_is_refused(host, internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    result = await make_fetch(ports=None).ainvoke({"url": f"http://{host}:{internal.port}/secret"})
    _assert_untouched(internal, guard, result)


@pytest.mark.parametrize("host", OTHER_INTERNAL)
async def test_metadata_and_private_addresses_are_refused(host, internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    result = await make_fetch(ports=None).ainvoke({"url": f"http://{host}/latest/meta-data/"})
    _assert_untouched(internal, guard, result)


async def test_refusal_is_one_line_with_the_reason(internal, make_fetch) -> None:  # type: ignore[no-untyped-def]
    result = await make_fetch(ports=None).ainvoke({"url": f"http://2130706433:{internal.port}/"})
    assert (
        result
        == "fetch refused: 127.0.0.1 is a loopback address and is refused; add the host to allow_hosts to permit it"
    )


@pytest.mark.parametrize(
    "table",
    [
        {"rebind.test": ["127.0.0.1"]},
        {"rebind.test": ["93.184.216.34", "127.0.0.1"]},  # one internal answer poisons the name
        {"rebind.test": ["::ffff:127.0.0.1"]},
        {"rebind.test": ["10.1.2.3"]},
    ],
)
async def test_names_resolving_to_internal_addresses_are_refused(table, internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    result = await make_fetch(table, ports=None).ainvoke({"url": f"http://rebind.test:{internal.port}/secret"})
    _assert_untouched(internal, guard, result)
    assert "'rebind.test' resolves to" in result


async def test_dns_rebinding_connects_only_to_the_checked_address(internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    tool = make_fetch({"rebind.test": lambda: next(answers)}, ports=None)
    result = await tool.ainvoke({"url": f"http://rebind.test:{internal.port}/secret"})
    # The name was resolved once; the socket went to the public answer that was checked (dropped by the test
    # guard), never to the internal address a second lookup would give.
    assert guard.blocked == ["93.184.216.34"]
    assert internal.connections == 0
    assert result.startswith("fetch failed:")


async def _redirect_server(location: str, status: int = 302) -> Server:
    s = await Server().start()
    s.routes["/go"] = static(status, "", "text/plain", Location=location)
    return s


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/secret", "http://2130706433:{port}/secret", "//127.0.0.1:{port}/secret"]
)
async def test_redirects_to_internal_addresses_are_refused(status, target, internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    public = await _redirect_server(target.format(port=internal.port), status)
    try:
        result = await make_fetch(ports=None, allow_hosts=["public.test"]).ainvoke(
            {"url": public.url("/go", host="public.test")}
        )
    finally:
        await public.stop()
    assert len(public.requests) == 1  # the first hop was allowed and made
    _assert_untouched(internal, guard, result)


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://127.0.0.1:70/", "only http and https"),
        ("http://user:pw@example.com/", "credentials"),
    ],
)
async def test_redirects_to_metadata_and_other_schemes_are_refused(
    location, reason, internal, guard, make_fetch
) -> None:  # type: ignore[no-untyped-def]
    public = await _redirect_server(location)
    try:
        result = await make_fetch(allow_hosts=["public.test"]).ainvoke({"url": public.url("/go", host="public.test")})
    finally:
        await public.stop()
    assert reason in result
    _assert_untouched(internal, guard, result)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}\\@public.test/", "backslashes"),
        ("http://public.test\\@127.0.0.1:{port}/", "backslashes"),
        ("http://public.test:{port}@127.0.0.1:{port}/", "credentials"),
        ("http://x@127.0.0.1:{port}/", "credentials"),
        ("file:///etc/passwd", "only http and https"),
        ("FILE:///etc/passwd", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("data:text/plain,TOP-SECRET", "only http and https"),
    ],
)
async def test_url_tricks_are_refused(url, reason, internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    result = await make_fetch(ports=None).ainvoke({"url": url.format(port=internal.port)})
    assert reason in result
    _assert_untouched(internal, guard, result)


async def test_non_web_ports_are_refused_by_default(internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    result = await make_fetch({"public.test": ["93.184.216.34"]}).ainvoke({"url": "http://public.test:22/"})
    assert "port 22 is not allowed" in result
    assert guard.blocked == [] and internal.connections == 0


async def test_allow_hosts_is_the_opt_in(internal, make_fetch) -> None:  # type: ignore[no-untyped-def]
    refused = await make_fetch().ainvoke({"url": internal.url("/secret", host="public.test")})
    assert refused.startswith("fetch refused:") and internal.connections == 0
    allowed = await make_fetch(allow_hosts=["public.test"]).ainvoke(
        {"url": internal.url("/secret", host="public.test")}
    )
    assert "TOP-SECRET" in allowed
    # The URL stayed as written: the server saw the name in Host while the socket went to the checked address.
    assert internal.requests[0].headers["host"] == f"public.test:{internal.port}"


async def test_proxy_environment_is_ignored(monkeypatch, server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    proxy = await Server().start()
    proxy.routes["/"] = static(200, "FROM-PROXY", "text/plain")
    server.routes["/page"] = static(200, "direct answer", "text/plain")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        monkeypatch.setenv(name, proxy.url("/"))
    monkeypatch.setenv("NO_PROXY", "")
    try:
        result = await make_fetch(allow_hosts=["127.0.0.1"]).ainvoke({"url": server.url("/page")})
    finally:
        await proxy.stop()
    assert "direct answer" in result
    assert proxy.connections == 0


async def test_idn_host_is_resolved_as_punycode_and_checked(internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    table = {"xn--bcher-kva.test": ["127.0.0.1"]}
    result = await make_fetch(table, ports=None).ainvoke({"url": f"http://bücher.test:{internal.port}/secret"})
    assert "'xn--bcher-kva.test' resolves to 127.0.0.1" in result
    _assert_untouched(internal, guard, result)
    allowed = await make_fetch(table, allow_hosts=["bücher.test"]).ainvoke(
        {"url": internal.url("/", host="bücher.test")}
    )
    assert "TOP-SECRET" in allowed


async def test_scoped_link_local_ipv6_is_refused(internal, guard, make_fetch) -> None:  # type: ignore[no-untyped-def]
    result = await make_fetch(ports=None).ainvoke({"url": f"http://[fe80::1%25eth0]:{internal.port}/"})
    assert "link-local" in result
    _assert_untouched(internal, guard, result)
