"""`castling serve`: a model server on loopback that replays one scenario's model turns, in the API it recorded.

Ollama: `/api/chat` (streamed NDJSON or one JSON object), `/api/show`, `/api/tags` and `/api/version`.
OpenAI-compatible (vLLM, llama.cpp, …): `/v1/chat/completions` (SSE or one JSON completion) and `/v1/models`.
So the REPL and any client of either API can be tested offline against a real process. By default requests
must match the recording (a divergence is answered with HTTP 400 and its message); `loose=True` serves the
replies in order whatever is asked.

Every request passes `serve_guard.RequestGuard` first (Host and Origin of this machine only, bodies up to 8 MiB),
and at most 32 connections are served at once (see `serve_guard`). It listens on loopback unless told
`allow_remote=True` (`--allow-remote`): a recording can hold anything the conversation saw.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self

import httpx

from castling.errors import ConfigError
from castling.scenarios.errors import API_NAMES, ScenarioDivergence
from castling.scenarios.format import REPLAY_HEADER, Scenario
from castling.scenarios.live import ScriptedFromScenario
from castling.scenarios.openai_wire import api_prefix, error_response
from castling.scenarios.replayer import ModelReplay
from castling.scenarios.serve_guard import (
    IDLE_TIMEOUT,
    MAX_BODY,
    MAX_CONNECTIONS,
    GuardedHTTPServer,
    Refusal,
    RequestGuard,
    bind_address,
    end_early,
    is_loopback,
)
from castling.scenarios.store import load


class TransportServer:
    """Any httpx transport served over HTTP on loopback (tests use it to put `ScriptedOllama` behind a port)."""

    def __init__(
        self,
        transport: httpx.BaseTransport,
        *,
        host: str = "127.0.0.1",
        port: int = 11434,
        delay: float = 0.0,
        allow_remote: bool = False,
        max_connections: int = MAX_CONNECTIONS,
        max_body: int = MAX_BODY,
    ) -> None:
        check_bind(host, allow_remote)
        self.delay = delay
        self.transport = transport
        self.replaying: str | None = None
        """The scenario file served, announced in a header; None for a server that stands in for Ollama."""
        self.guard = RequestGuard(host, allow_remote=allow_remote, max_body=max_body)
        self.httpd = GuardedHTTPServer(
            (bind_address(host), port), self._handler_class(), max_connections=max_connections
        )
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"

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
            timeout = IDLE_TIMEOUT  # a client that stays silent does not hold a connection slot for ever

            def dispatch(self) -> None:
                """Every method and route: the guard first, then the body (within its limit), then the answer."""
                refusal = server.guard.check(self.headers)
                if refusal is not None:
                    server.refuse(self, refusal)
                    return
                length = server.guard.body_length(self.headers)
                if self.command == "HEAD":
                    self.send_response(200)
                    self.end_headers()
                    return
                server.answer(self, self.rfile.read(length) if length else b"")

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the command prints divergences itself

        return Handler

    def refuse(self, handler: BaseHTTPRequestHandler, refusal: Refusal) -> None:
        """Answer `refusal` as Ollama words errors (`{"error": ...}`) without reading the request's body."""
        body = error_response(refusal.status, refusal.message).content if _openai(handler.path) else b""
        body = body or json.dumps({"error": refusal.message}).encode()
        handler.send_response(refusal.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True
        end_early(handler.connection, wait=2.0)

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        request = httpx.Request(handler.command, f"http://replay{handler.path}", content=body)
        try:
            response = self.transport.handle_request(request)
        except ScenarioDivergence as exc:
            print(str(exc), file=sys.stderr)
            response = _error(handler.path, 400, brief(exc))
        except Exception as exc:  # e.g. a scripted server out of replies: answer like the server would, as an error
            response = _error(handler.path, 500, f"{type(exc).__name__}: {exc}")
        if response.status_code >= 500:  # the client sees an error: the serve console says which
            print(
                f"castling serve: answered {response.status_code} to {handler.path}: {_reason(response)}",
                file=sys.stderr,
            )
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


def _reason(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (httpx.ResponseNotRead, ValueError, AttributeError):
        return "(streamed)"
    return str(error.get("message") if isinstance(error, dict) else error)


def _openai(path: str) -> bool:
    return path.startswith("/v1/")


def _error(path: str, status: int, message: str) -> httpx.Response:
    """An error as the asking client's API words it: OpenAI's `{"error": {"message": …}}` or Ollama's `{"error": …}`."""
    return error_response(status, message) if _openai(path) else httpx.Response(status, json={"error": message})


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless remote clients are explicitly allowed."""
    if not allow_remote and not is_loopback(host):
        raise ConfigError(
            f"will not listen on {host!r}, which other machines may reach: they could read the recorded conversation. "
            "Serve loopback only with --bind 127.0.0.1 (the default), or add --allow-remote if you mean it."
        )


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
        self,
        path: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 11434,
        loose: bool = False,
        delay: float = 0.0,
        allow_remote: bool = False,
    ) -> None:
        check_bind(host, allow_remote)  # before loading anything
        scenario = load(path)
        self.path = Path(path)
        handler: Any = ScriptedFromScenario(scenario).model_transport() if loose else ModelReplay(scenario, path)
        super().__init__(handler, host=host, port=port, delay=delay, allow_remote=allow_remote)
        self.replaying = self.path.name


def chat_flags(scenario: Scenario) -> str:
    """`castling chat` flags that send what the file recorded (strict matching diverges on any other request)."""
    from castling.tools.builtins import BUILTIN_TOOLS

    agent = scenario.agent
    builtins = {builtin.scenario_name for builtin in BUILTIN_TOOLS.values()}
    tools = ",".join(t for t in agent.tools if t in builtins) or "none"
    flags = [f"-m {agent.model}", f"--backbone {agent.backbone}", f"--tools {tools}"]
    flags += [f"--strategy {agent.strategy}"] if agent.strategy else []
    flags += [f"--think {'on' if agent.think else 'off'}"] if isinstance(agent.think, bool) else []
    options = {**agent.options, **({"num_ctx": agent.num_ctx} if agent.num_ctx else {})}
    flags += [f"--set {name}={value}" for name, value in options.items()]
    others = [t for t in agent.tools if t not in builtins]
    if others:  # the chat cannot offer them, so its requests differ from the file's
        flags.append(f"  (the chat has no {', '.join(others)} tool: `castling replay FILE` runs this file as it is)")
    return " ".join(flags)


def describe(server: ReplayServer) -> str:
    """The start-up banner."""
    scenario = load(server.path)
    if scenario.agent.server == "openai":
        hint = f"castling chat --server openai --host {server.url}{api_prefix(scenario)} -m {scenario.agent.model}"
    else:
        hint = f"OLLAMA_HOST={server.url} castling chat {chat_flags(scenario)}"
    return (
        f"castling serve: replaying {server.path} ({len(scenario.model_turns)} model turns, "
        f"{API_NAMES[scenario.agent.server]}, model {scenario.agent.model}) at {server.url}\n"
        f"  try: {hint}  ·  Ctrl-C stops"
    )
