"""TLS: the socket goes to the checked address while SNI and certificate checks use the name as written."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from castling.tools.web import AddressPolicy, StaticResolver, fetch
from castling.tools.web._transport import PinnedTransport

from .server import Server, static

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _self_signed(tmp: Path, name: str) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def _tls_server(tmp_path: Path, sni_seen: list[str | None]) -> tuple[Server, Path]:
    cert, key = _self_signed(tmp_path, "public.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: sni_seen.append(name)  # type: ignore[assignment,func-returns-value]
    server = await Server(tls=context).start()
    server.routes["/"] = static(200, "over tls", "text/plain")
    return server, cert


async def test_self_signed_certificate_is_rejected(tmp_path, guard) -> None:  # type: ignore[no-untyped-def]
    sni: list[str | None] = []
    server, _ = await _tls_server(tmp_path, sni)
    tool = fetch(
        resolver=StaticResolver({"public.test": ["127.0.0.1"]}), network_backend=guard, allow_hosts=["public.test"]
    )
    try:
        result = await tool.ainvoke({"url": server.url("/", host="public.test")})
    finally:
        await tool.aclose()
        await server.stop()
    assert result.startswith("fetch failed: ConnectError") and "CERTIFICATE_VERIFY_FAILED" in result
    assert len(server.requests) == 0


async def test_sni_and_certificate_name_are_the_url_host(tmp_path, guard) -> None:  # type: ignore[no-untyped-def]
    sni: list[str | None] = []
    server, cert = await _tls_server(tmp_path, sni)
    # A private CA: pass a pinned transport that trusts it.
    trusting = ssl.create_default_context(cafile=str(cert))
    policy = AddressPolicy.build(["public.test"])
    resolver = StaticResolver({"public.test": ["127.0.0.1"]})
    transport = PinnedTransport(policy, resolver, network_backend=guard, verify=trusting)
    tool = fetch(transport=transport, allow_hosts=["public.test"])
    try:
        result = await tool.ainvoke({"url": server.url("/", host="public.test")})
    finally:
        await tool.aclose()
        await server.stop()
    assert "over tls" in result
    assert sni == ["public.test"] and guard.connected == ["127.0.0.1"]
    assert server.requests[0].headers["host"] == f"public.test:{server.port}"
