"""Size and time limits against hostile loopback servers."""

from __future__ import annotations

import asyncio
import gzip
import zlib

from .server import Request, response, static

ALLOW = {"allow_hosts": ["127.0.0.1"]}


async def test_gzip_bomb_is_stopped_at_the_decoded_cap(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    bomb = gzip.compress(b"\0" * (64 << 20), 9)  # 64 MiB of zeros in ~64 KiB
    server.routes["/bomb"] = static(200, bomb, "text/html", Content_Encoding="gzip")
    result = await make_fetch(max_bytes="1MiB", **ALLOW).ainvoke({"url": server.url("/bomb")})
    assert result == "fetch refused: the decompressed response is over the 1 MiB limit; stopped"


async def test_deflate_body_within_the_cap_is_decoded(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    server.routes["/z"] = static(200, zlib.compress(b"plain deflated words"), "text/plain", Content_Encoding="deflate")
    result = await make_fetch(**ALLOW).ainvoke({"url": server.url("/z")})
    assert "plain deflated words" in result


async def test_unknown_content_encoding_is_refused(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    server.routes["/br"] = static(200, b"\x1b\x00\x00", "text/plain", Content_Encoding="br")
    result = await make_fetch(**ALLOW).ainvoke({"url": server.url("/br")})
    assert result == "fetch refused: unsupported content encoding 'br'"


async def test_huge_content_length_is_refused_before_the_body(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10737418240\r\n\r\n")
        for _ in range(50):  # would take ~forever to send 10 GiB; we only check it is not waited for
            writer.write(b"x" * 1024)
            await writer.drain()
            await asyncio.sleep(0.01)

    server.routes["/huge"] = handler
    result = await make_fetch(**ALLOW).ainvoke({"url": server.url("/huge")})
    assert result == "fetch refused: the response is 10 GiB, over the 5 MiB limit"


async def test_endless_chunked_stream_is_stopped_at_the_cap(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"y" * 16384
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()

    server.routes["/endless"] = handler
    result = await make_fetch(max_bytes="256KiB", **ALLOW).ainvoke({"url": server.url("/endless")})
    assert result == "fetch refused: the response is over the 256 KiB limit; stopped reading"


async def test_content_length_lie_is_capped_by_the_bytes_read(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n" + b"z" * 100_000)
        await writer.drain()

    server.routes["/lie"] = handler
    result = await make_fetch(**ALLOW).ainvoke({"url": server.url("/lie")})
    assert "zzzzzzzzzz" in result and "z" * 11 not in result  # only the declared 10 bytes are taken


async def test_slow_drip_is_stopped_by_the_total_deadline(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(1000):  # one byte every 50 ms: each read is quick, the whole is not
            writer.write(b"d")
            await writer.drain()
            await asyncio.sleep(0.05)

    server.routes["/drip"] = handler
    result = await make_fetch(timeout=0.6, **ALLOW).ainvoke({"url": server.url("/drip")})
    assert result == "fetch failed: no complete response within the 0.6 s limit"


async def test_server_that_never_answers_times_out(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server.routes["/silent"] = handler
    result = await make_fetch(read_timeout=0.3, **ALLOW).ainvoke({"url": server.url("/silent")})
    assert result == "fetch failed: timed out (ReadTimeout)"


async def test_redirect_loop_stops_after_five_hops(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(response(302, "", "text/plain", Location="/loop"))
        await writer.drain()

    server.routes["/loop"] = handler
    result = await make_fetch(**ALLOW).ainvoke({"url": server.url("/loop")})
    assert result.startswith("fetch failed: more than 5 redirects")
    assert len(server.requests) == 6  # the first request and 5 followed redirects


async def test_redirect_chain_within_limit_is_followed(server, make_fetch) -> None:  # type: ignore[no-untyped-def]
    server.routes["/r1"] = static(301, "", "text/plain", Location="/r2")
    server.routes["/r2"] = static(307, "", "text/plain", Location="/final")
    server.routes["/final"] = static(200, "arrived", "text/plain")
    result = await make_fetch(**ALLOW).ainvoke({"url": server.url("/r1")})
    assert f"URL: {server.url('/final')}" in result
    assert f"Redirected from: {server.url('/r1')}" in result
    assert "arrived" in result
