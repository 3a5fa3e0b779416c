"""`castling serve`: an Ollama-compatible HTTP server on loopback that replays one scenario's model turns.

`/api/chat` (streamed NDJSON or one JSON object), `/api/show`, `/api/tags` and `/api/version`, so the REPL
and any Ollama client can be tested offline against a real process. By default requests must match the
recording (a divergence is answered with HTTP 400 and its message); `loose=True` serves the replies in
order whatever is asked.
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import httpx

from castling.scenarios.errors import ScenarioDivergence
from castling.scenarios.format import REPLAY_HEADER
from castling.scenarios.live import ScriptedFromScenario
from castling.scenarios.replayer import ModelReplay
from castling.scenarios.store import load

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class TransportServer:
    """Any httpx transport served over HTTP on loopback (tests use it to put `ScriptedOllama` behind a port)."""

    def __init__(
        self, transport: httpx.BaseTransport, *, host: str = "127.0.0.1", port: int = 11434, delay: float = 0.0
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"castling serve listens on loopback only, not {host!r}")
        self.delay = delay
        self.transport = transport
        self.replaying: str | None = None
        """The scenario file served, announced in a header; None for a server that stands in for Ollama."""
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}" if not isinstance(host, bytes) else f"http://{host.decode()}:{port}"

    def start(self) -> Self:
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="castling-serve"
        )
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the end of the body is the end of the connection: simple streaming

            def do_GET(self) -> None:
                server.answer(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                server.answer(self, self.rfile.read(length) if length else b"")

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the command prints divergences itself

        return Handler

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        request = httpx.Request(handler.command, f"http://replay{handler.path}", content=body)
        try:
            response = self.transport.handle_request(request)
        except ScenarioDivergence as exc:
            print(str(exc), file=sys.stderr)
            response = httpx.Response(400, json={"error": brief(exc)})
        except Exception as exc:  # e.g. a scripted server out of replies: answer like Ollama does, as an error
            response = httpx.Response(500, json={"error": f"{type(exc).__name__}: {exc}"})
        handler.send_response(response.status_code)
        if self.replaying is not None:  # clients (the chat's /save) can tell a replay from Ollama
            handler.send_header(REPLAY_HEADER, self.replaying)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                handler.send_header(name, value)
        handler.end_headers()
        try:
            pieces: Any = [response.content]  # built from JSON: already in memory
        except httpx.ResponseNotRead:
            pieces = response.iter_raw()  # NDJSON: written line by line as it is produced
        for piece in pieces:
            handler.wfile.write(piece)
            handler.wfile.flush()
            if self.delay:
                time.sleep(self.delay)


def brief(exc: ScenarioDivergence) -> str:
    """The divergence in one line for the client; the full diff goes to the server's console.

    Clients such as the chat show an error as one line, and a whole structural diff folded into it is unreadable.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep = [lines[0]] if lines else []
    keep += [line for line in lines if line.startswith(("First difference", "Likely cause"))]
    return " · ".join(keep + ["full diff on the castling serve console"])


class ReplayServer(TransportServer):
    """One scenario's recorded model turns, served strictly (or in order with `loose=True`)."""

    def __init__(
        self, path: str | Path, *, host: str = "127.0.0.1", port: int = 11434, loose: bool = False, delay: float = 0.0
    ) -> None:
        if host not in LOOPBACK:  # before loading anything
            raise ValueError(f"castling serve listens on loopback only, not {host!r}")
        scenario = load(path)
        self.path = Path(path)
        handler: Any = ScriptedFromScenario(scenario).model_transport() if loose else ModelReplay(scenario, path)
        super().__init__(handler, host=host, port=port, delay=delay)
        self.replaying = self.path.name


def describe(server: ReplayServer) -> str:
    """The start-up banner."""
    scenario = load(server.path)
    return (
        f"castling serve: replaying {server.path} ({len(scenario.model_turns)} model turns, model "
        f"{scenario.agent.model}) at {server.url}\n  try: OLLAMA_HOST={server.url} castling chat  ·  Ctrl-C stops"
    )
