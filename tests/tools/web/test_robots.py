"""robots.txt: honoured by fetch by default, fetched under the same address rules."""

from __future__ import annotations

from castling.tools import fetch, http_request
from castling.tools.web import StaticResolver

from .server import static

ROBOTS = "User-agent: *\nDisallow: /private\n\nUser-agent: castling-fetch\nDisallow: /private\nDisallow: /no-agents\n"


def _tool(guard, **settings):  # type: ignore[no-untyped-def]
    return fetch(resolver=StaticResolver({"public.test": ["127.0.0.1"]}), network_backend=guard, **settings)


async def test_disallowed_paths_are_refused_without_requesting_them(server, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/robots.txt"] = static(200, ROBOTS, "text/plain")
    server.routes["/private/page"] = static(200, "private page", "text/plain")
    server.routes["/open"] = static(200, "open page", "text/plain")
    tool = _tool(guard, allow_hosts=["public.test"])
    for path in ("/private/page", "/no-agents"):
        result = await tool.ainvoke({"url": server.url(path, host="public.test")})
        assert result == (
            f"fetch refused: http://public.test:{server.port}/robots.txt disallows this URL for automated agents"
        )
    assert "open page" in await tool.ainvoke({"url": server.url("/open", host="public.test")})
    await tool.aclose()
    assert [r.path for r in server.requests] == ["/robots.txt", "/open"]  # read once, cached per origin


async def test_forbidden_robots_txt_disallows_everything(server, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/robots.txt"] = static(403, "no", "text/plain")
    server.routes["/page"] = static(200, "page", "text/plain")
    tool = _tool(guard, allow_hosts=["127.0.0.1"])
    result = await tool.ainvoke({"url": server.url("/page")})
    await tool.aclose()
    assert "robots.txt disallows" in result
    assert [r.path for r in server.requests] == ["/robots.txt"]


async def test_missing_robots_txt_allows(server, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/page"] = static(200, "page body", "text/plain")
    tool = _tool(guard, allow_hosts=["127.0.0.1"])
    result = await tool.ainvoke({"url": server.url("/page")})
    await tool.aclose()
    assert "page body" in result


async def test_robots_txt_redirecting_inside_cannot_reach_internal_services(server, internal, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/robots.txt"] = static(302, "", "text/plain", Location=internal.url("/secret"))
    server.routes["/page"] = static(200, "page", "text/plain")
    tool = _tool(guard, allow_hosts=["public.test"], ports=None)
    result = await tool.ainvoke({"url": server.url("/page", host="public.test")})
    await tool.aclose()
    assert result.startswith("fetch refused: 127.0.0.1 is a loopback address") and "robots.txt" in result
    assert internal.connections == 0 and guard.blocked == []


async def test_http_request_does_not_read_robots_txt(server, guard) -> None:  # type: ignore[no-untyped-def]
    server.routes["/robots.txt"] = static(200, "User-agent: *\nDisallow: /\n", "text/plain")
    server.routes["/api"] = static(200, '{"ok": true}', "application/json")
    tool = http_request(resolver=StaticResolver({}), network_backend=guard, allow_hosts=["127.0.0.1"])
    result = await tool.ainvoke({"url": server.url("/api")})
    await tool.aclose()
    assert '"ok": true' in result and [r.path for r in server.requests] == ["/api"]
    assert fetch().settings.respect_robots_txt is True
