"""Redirects to another origin: the caller's secret headers and its request body stay behind (issue #17 item 8).

Two loopback servers on two ports are two origins; each test asserts what the second one received.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from .server import Server, static

ALLOW = {"allow_hosts": ["127.0.0.1", "public.test"]}
CARD = {"card": "4111 1111 1111 1111", "cvc": "123"}
SECRET_HEADERS = {
    "Authorization": "Bearer tok-1",
    "x-api-key": "key-2",
    "X-Session-Id": "sess-3",
    "X-CSRF-Token": "csrf-4",
    "X-Custom": "plain-5",  # not secret-looking, still not forwarded: only an allow-list crosses origins
}
SAFE_HEADERS = {"Accept": "application/json", "Accept-Language": "en"}


@pytest.fixture
async def other() -> AsyncIterator[Server]:
    """The second origin: it must never see what was meant for the first."""
    s = await Server().start()
    s.routes["/collect"] = static(200, '{"got": "it"}', "application/json")
    yield s
    await s.stop()


def _target(server: Server, other: Server, change: str) -> str:
    # "port": another server on 127.0.0.1; "host": the same server under another name (public.test -> 127.0.0.1).
    return other.url("/collect") if change == "port" else server.url("/collect", host="127.0.0.1")


def _first_url(server: Server, change: str) -> str:
    return server.url("/pay", host="public.test" if change == "host" else None)


def _received(server: Server, other: Server, change: str) -> list:  # type: ignore[type-arg]
    """Requests that reached the redirect target's origin."""
    if change == "port":
        return other.requests
    return [r for r in server.requests if r.path == "/collect"]


@pytest.mark.parametrize("change", ["port", "host"])
@pytest.mark.parametrize("status", [307, 308])
async def test_a_body_is_not_resent_to_another_origin_unless_opted_in(server, other, make_api, status, change) -> None:  # type: ignore[no-untyped-def]
    target = _target(server, other, change)
    server.routes["/pay"] = static(status, "moved", "text/plain", Location=target)
    server.routes["/collect"] = other.routes["/collect"]
    api = make_api(**ALLOW)
    args = {"url": _first_url(server, change), "method": "POST", "body": CARD, "headers": SECRET_HEADERS}
    result = await api.ainvoke(args)
    assert _received(server, other, change) == []  # nothing reached the other origin
    assert f"Status: {status}" in result and "\n\nmoved\n" in result
    note = next(line for line in result.split("\n") if line.startswith("Note: "))
    assert f"redirected this POST ({status}) to another origin, {target}" in note
    assert "the request body was not sent there" in note
    assert json.loads(server.requests[0].body) == CARD  # the first origin got what it was sent


@pytest.mark.parametrize("change", ["port", "host"])
async def test_opted_in_body_goes_on_without_secret_headers(server, other, make_api, change) -> None:  # type: ignore[no-untyped-def]
    server.routes["/pay"] = static(307, "", "text/plain", Location=_target(server, other, change))
    server.routes["/collect"] = other.routes["/collect"]
    api = make_api(resend_body_cross_origin=True, **ALLOW)
    headers = {**SECRET_HEADERS, **SAFE_HEADERS}
    result = await api.ainvoke({"url": _first_url(server, change), "method": "POST", "body": CARD, "headers": headers})
    (received,) = _received(server, other, change)
    assert received.method == "POST" and json.loads(received.body) == CARD
    assert received.headers["content-type"] == "application/json"
    assert received.headers["accept"] == "application/json" and received.headers["accept-language"] == "en"
    for name in SECRET_HEADERS:
        assert name.lower() not in received.headers
    assert "Status: 200" in result and '"got": "it"' in result
    note = next(line for line in result.split("\n") if line.startswith("Note: "))
    assert note.startswith("Note: headers not sent to the other origin http://127.0.0.1:")
    assert note.endswith(": authorization, x-api-key, x-csrf-token, x-custom, x-session-id")  # only the caller's


async def test_same_origin_hops_keep_headers_and_body_until_the_origin_changes(server, other, make_api) -> None:  # type: ignore[no-untyped-def]
    server.routes["/pay"] = static(307, "", "text/plain", Location="/step")
    server.routes["/step"] = static(308, "", "text/plain", Location=other.url("/collect"))
    api = make_api(resend_body_cross_origin=True, **ALLOW)
    await api.ainvoke({"url": server.url("/pay"), "method": "POST", "body": CARD, "headers": SECRET_HEADERS})
    step = server.requests[1]
    assert step.path == "/step" and json.loads(step.body) == CARD
    assert step.headers["x-api-key"] == "key-2" and step.headers["authorization"] == "Bearer tok-1"
    (received,) = other.requests
    assert json.loads(received.body) == CARD and not set(received.headers) & {n.lower() for n in SECRET_HEADERS}


@pytest.mark.parametrize("status", [301, 302, 303, 307])
async def test_a_get_redirect_to_another_origin_drops_secret_headers(server, other, make_api, status) -> None:  # type: ignore[no-untyped-def]
    server.routes["/pay"] = static(status, "", "text/plain", Location=other.url("/collect"))
    api = make_api(**ALLOW)
    result = await api.ainvoke({"url": server.url("/pay"), "headers": {**SECRET_HEADERS, **SAFE_HEADERS}})
    (received,) = other.requests
    assert received.method == "GET" and received.headers["accept"] == "application/json"
    assert not set(received.headers) & {name.lower() for name in SECRET_HEADERS}
    assert server.requests[0].headers["x-api-key"] == "key-2"  # the first origin got them
    assert '"got": "it"' in result
