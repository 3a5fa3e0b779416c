"""HTTP/1.1 for `castling serve`: request bodies in (Content-Length or chunked), responses out (length or chunked).

Ollama speaks HTTP/1.1 with persistent connections: a whole JSON answer carries its `Content-Length`, a stream is
sent `Transfer-Encoding: chunked`. Clients that pool connections (httpx, undici, Go) rely on both to know where an
answer ends without the server closing the connection.
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from castling.scenarios.serve_guard import Refusal

_HOP_BY_HOP = ("content-length", "transfer-encoding", "connection")


def read_body(handler: BaseHTTPRequestHandler, max_body: int) -> bytes | Refusal:
    """The request's body as sent (a chunked one decoded), or why it was refused (over `max_body` bytes, malformed)."""
    if "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        return _read_chunked(handler, max_body)
    length = int(handler.headers.get("content-length") or 0)  # the guard has checked it is a number within limits
    return handler.rfile.read(length) if length else b""


def _read_chunked(handler: BaseHTTPRequestHandler, max_body: int) -> bytes | Refusal:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = handler.rfile.readline(1024).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            return Refusal(400, f"malformed chunked request body: chunk size {size_line[:20]!r} is not hexadecimal")
        total += size
        if total > max_body:
            return Refusal(413, f"the chunked request body is over castling serve's limit of {max_body} bytes")
        if size == 0:
            _skip_trailers(handler)
            return b"".join(parts)
        parts.append(handler.rfile.read(size))
        handler.rfile.readline(1024)  # the CRLF after each chunk


def _skip_trailers(handler: BaseHTTPRequestHandler) -> None:
    for _ in range(100):
        if handler.rfile.readline(1024).strip() == b"":
            return


def write_response(
    handler: BaseHTTPRequestHandler, response: httpx.Response, headers: dict[str, str], *, delay: float = 0.0
) -> bool:
    """Send `response` (plus `headers`); True once all of it was written, False if the client went away first."""
    handler.send_response(response.status_code)
    for name, value in [*headers.items(), *response.headers.items()]:
        if name.lower() not in _HOP_BY_HOP:
            handler.send_header(name, value)
    try:
        content = response.content  # built from JSON: already in memory, so its length is known
    except httpx.ResponseNotRead:
        return _write_chunked(handler, response.iter_raw(), delay)
    handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(content)
    handler.wfile.flush()
    return True


def _write_chunked(handler: BaseHTTPRequestHandler, pieces: Any, delay: float) -> bool:
    """A stream (NDJSON lines, SSE events) as HTTP chunks, each flushed as it is produced."""
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    try:
        for piece in pieces:
            if piece:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                handler.wfile.flush()
            if delay:
                time.sleep(delay)
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
    except OSError:  # the client hung up mid-stream: its turn was not delivered
        handler.close_connection = True
        return False
    return True
