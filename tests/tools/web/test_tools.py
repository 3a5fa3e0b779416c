"""The tools as an agent uses them: API calls, transport injection, exports, sync use."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from langchain_core.tools import BaseTool

from castling.errors import ConfigError
from castling.tools.web import StaticResolver, WebSettings

from .server import Request, Server, static

ALLOW = {"allow_hosts": ["127.0.0.1"]}


def _echo() -> object:
    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        payload = {"method": request.method, "body": request.body.decode(), "accept": request.headers.get("accept")}
        data = json.dumps(payload).encode()
        writer.write(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(data), data)
        )
        await writer.drain()

    return handle


async def test_http_request_posts_json_and_pretty_prints_the_answer(server, make_api) -> None:  # type: ignore[no-untyped-def]
    server.routes["/api"] = _echo()  # type: ignore[assignment]
    tool = make_api(**ALLOW)
    result = await tool.ainvoke(
        {
            "url": server.url("/api"),
            "method": "POST",
            "body": {"q": "harbour"},
            "headers": {"Accept": "application/json"},
        }
    )
    assert "Status: 201 Created" in result and "Content-Type: application/json" in result
    assert '"method": "POST"' in result and '"accept": "application/json"' in result
    assert json.loads(json.loads(result.split("\n\n", 1)[1].rsplit("\n", 1)[0])["body"]) == {"q": "harbour"}


async def test_http_request_get(server, make_api) -> None:  # type: ignore[no-untyped-def]
    server.routes["/api"] = _echo()  # type: ignore[assignment]
    result = await make_api(**ALLOW).ainvoke({"url": server.url("/api")})
    assert '"method": "GET"' in result


async def test_http_request_follows_the_same_address_rules(internal, guard, make_api) -> None:  # type: ignore[no-untyped-def]
    result = await make_api(ports=None).ainvoke(
        {"url": f"http://[::ffff:7f00:1]:{internal.port}/secret", "method": "POST"}
    )
    assert result.startswith("http_request refused:") and "loopback" in result
    assert internal.connections == 0 and guard.blocked == []


@pytest.mark.parametrize("header", ["Host", "Accept-Encoding", "Cookie", "Proxy-Authorization", "Transfer-Encoding"])
async def test_http_request_refuses_headers_that_change_the_transport(header, server, make_api) -> None:  # type: ignore[no-untyped-def]
    result = await make_api(**ALLOW).ainvoke({"url": server.url("/api"), "headers": {header: "x"}})
    assert result == f"http_request refused: these headers cannot be set: {header}"
    assert server.connections == 0


async def test_http_request_refuses_a_get_body(server, make_api) -> None:  # type: ignore[no-untyped-def]
    result = await make_api(**ALLOW).ainvoke({"url": server.url("/api"), "body": {"a": 1}})
    assert result == "http_request refused: a GET request cannot have a body; use POST"


async def test_a_wrapping_recorder_sees_the_url_as_written(server, guard) -> None:  # type: ignore[no-untyped-def]
    from castling.tools import fetch

    seen: list[str] = []

    class Recorder(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(str(request.url))
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    server.routes["/p"] = static(200, "recorded page", "text/plain")
    tool = fetch(
        transport=Recorder,
        resolver=StaticResolver({"public.test": ["127.0.0.1"]}),
        network_backend=guard,
        allow_hosts=["public.test"],
        respect_robots_txt=False,
    )
    result = await tool.ainvoke({"url": server.url("/p", host="public.test")})
    await tool.aclose()
    assert "recorded page" in result
    assert seen == [f"http://public.test:{server.port}/p"]
    assert guard.connected == ["127.0.0.1"]  # the socket went to the checked address


async def test_a_replay_transport_replaces_the_network_but_not_the_policy() -> None:
    from castling.tools import fetch

    calls: list[str] = []

    def replay(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, headers={"content-type": "application/json"}, content=b'{"replayed": true}')

    tool = fetch(transport=httpx.MockTransport(replay), respect_robots_txt=False)
    ok = await tool.ainvoke({"url": "https://example.org/data.json"})
    refused = await tool.ainvoke({"url": "http://127.0.0.1/"})
    await tool.aclose()
    assert '"replayed": true' in ok
    assert refused.startswith("fetch refused:") and calls == ["https://example.org/data.json"]


def test_tools_are_langchain_tools_with_model_facing_schemas() -> None:
    from castling.tools import fetch, http_request

    f, h = fetch(max_bytes="5MiB", timeout=20, allow_hosts=["intranet.local"]), http_request()
    assert isinstance(f, BaseTool) and isinstance(h, BaseTool)
    assert f.name == "fetch" and h.name == "http_request"
    assert set(f.tool_call_schema.model_json_schema()["properties"]) == {"url", "start_index", "max_length"}
    assert {"url", "method", "body", "headers"} <= set(h.tool_call_schema.model_json_schema()["properties"])
    assert f.settings.max_bytes == 5 << 20 and f.settings.allow_hosts == ("intranet.local",)


def test_bad_settings_are_rejected() -> None:
    from castling.tools import fetch

    with pytest.raises(ValueError, match="max_bytes"):
        fetch(max_bytes="0MiB")
    with pytest.raises(ValueError, match="extra"):
        fetch(max_byte=5)
    assert WebSettings(max_bytes="500KB").max_bytes == 500_000


def test_missing_web_extra_is_a_config_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    from castling.tools import fetch

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "trafilatura" else real(name, *a))
    with pytest.raises(ConfigError, match=r"castling\[web\]"):
        fetch()


def test_sync_invoke_works_outside_an_event_loop() -> None:
    # A thread with its own loop serves the page so the synchronous call has something to read.
    import threading

    ready = threading.Event()
    holder: dict[str, object] = {}

    def serve() -> None:
        async def main() -> None:
            s = await Server().start()
            s.routes["/s"] = static(200, "sync page", "text/plain")
            holder["server"] = s
            holder["loop"] = asyncio.get_running_loop()
            ready.set()
            await asyncio.sleep(5)
            await s.stop()

        try:
            asyncio.run(main())
        except RuntimeError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(5)
    server = holder["server"]
    assert isinstance(server, Server)
    from castling.tools import fetch

    tool = fetch(**ALLOW)
    assert "sync page" in tool.invoke({"url": server.url("/s")})


async def test_unexpected_errors_become_one_line_results(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    class Broken:
        async def html(self, html: str, url: str, timeout: float) -> object:
            raise RuntimeError("extractor exploded")

        async def pdf(self, data: bytes, timeout: float) -> object:
            raise RuntimeError("extractor exploded")

    server.routes["/p"] = static(200, "<p>x</p>", "text/html")
    tool = make_fetch(extractor=Broken(), **ALLOW)
    assert await tool.ainvoke({"url": server.url("/p")}) == "fetch failed: RuntimeError: extractor exploded"


async def test_tool_call_from_a_model_returns_a_tool_message(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    from langchain_core.messages import ToolMessage

    server.routes["/p"] = static(200, "called by a model", "text/plain")
    tool = make_fetch(**ALLOW)
    call = {"name": "fetch", "args": {"url": server.url("/p")}, "id": "call-1", "type": "tool_call"}
    message = await tool.ainvoke(call, {"configurable": {"thread_id": "session-1"}})
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call-1"
    assert "called by a model" in str(message.content)
