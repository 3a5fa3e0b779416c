"""`castling serve`: a model server on loopback that replays one scenario's model turns, in the API it recorded.

Ollama: `/api/chat` and (when recorded) `/api/generate` (streamed NDJSON or one JSON object), `/api/show`,
`/api/tags`, `/api/ps`, `/api/version` and `GET /` (`Ollama is running`); wrong methods, unknown paths, empty or
malformed bodies and unknown models are answered as Ollama answers them (`serve_routes`), over HTTP/1.1 (`serve_http`).
OpenAI-compatible (vLLM, llama.cpp, …): `/v1/chat/completions` (SSE or one JSON completion) and `/v1/models`.
So the REPL and any client of either API can be tested offline against a real process. By default requests
must match the recording (a divergence is answered with HTTP 400 and its message, and the turn stays unused: a
turn is used up only once its reply was sent whole); `loose=True` serves the replies in order whatever is asked.

Every request passes `serve_guard.RequestGuard` first (Host and Origin of this machine only, bodies up to 8 MiB),
and at most 32 connections are served at once (see `serve_guard`). It listens on loopback unless told
`allow_remote=True` (`--allow-remote`): a recording can hold anything the conversation saw.
"""

from __future__ import annotations

import json
import sys
import threading
from contextlib import AbstractContextManager, nullcontext
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self

import httpx

from castling.errors import ConfigError
from castling.scenarios.errors import API_NAMES, ScenarioDivergence
from castling.scenarios.format import REPLAY_HEADER, Scenario
from castling.scenarios.live import ScriptedFromScenario
from castling.scenarios.openai_wire import api_prefix, error_response
from castling.scenarios.replayer import COMMIT, ModelReplay
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
from castling.scenarios.serve_http import read_body, write_response
from castling.scenarios.serve_routes import early_answer, is_openai
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
        one_at_a_time: bool = False,
    ) -> None:
        """`one_at_a_time`: answer transport requests one after another (a recording's turns are used in order)."""
        check_bind(host, allow_remote)
        self.delay = delay
        self.transport = transport
        self._in_turn: AbstractContextManager[Any] = threading.Lock() if one_at_a_time else nullcontext()
        """Held from matching a request to committing its turn: see `answer`."""
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
            protocol_version = "HTTP/1.1"  # as Ollama: persistent connections, answers with a length or chunked
            # TCP_NODELAY, as Ollama's Go server has by default: the headers and the body go out in separate writes,
            # and Nagle held the body until the client's delayed ACK of the headers (~40 ms per request on loopback).
            disable_nagle_algorithm = True
            timeout = IDLE_TIMEOUT  # a client that stays silent does not hold a connection slot for ever

            def dispatch(self) -> None:
                """Every method and route: the guard first, then the body (within its limit), then the answer."""
                refusal = server.guard.check(self.headers)
                body = read_body(self, server.guard.max_body) if refusal is None else refusal
                if isinstance(body, Refusal):
                    server.refuse(self, body)
                    return
                server.answer(self, body)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the command prints divergences itself

        return Handler

    def refuse(self, handler: BaseHTTPRequestHandler, refusal: Refusal) -> None:
        """Answer `refusal` as Ollama words errors (`{"error": ...}`) without reading the request's body."""
        body = error_response(refusal.status, refusal.message).content if is_openai(handler.path) else b""
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
        """Answer one request; a recorded turn counts as used only once its reply was written whole."""
        early = early_answer(handler.command, handler.path, body)
        if early is not None:
            self._send(handler, early)
            return
        # A replay answers one request at a time, from matching to commit: the client has the whole reply before
        # `_send` returns, and its next request (often on a new connection, so another thread) must not be
        # matched against the turn that is about to be used up (seen with the JavaScript client).
        with self._in_turn:
            self._send(handler, self._replayed(handler, body))

    def _send(self, handler: BaseHTTPRequestHandler, response: httpx.Response) -> None:
        if response.status_code >= 500:  # the client sees an error: the serve console says which
            print(
                f"castling serve: answered {response.status_code} to {handler.path}: {_reason(response)}",
                file=sys.stderr,
            )
        headers = {REPLAY_HEADER: self.replaying} if self.replaying is not None else {}
        sent = write_response(handler, response, headers, delay=self.delay)
        commit = response.extensions.get(COMMIT)
        if sent and commit is not None:
            commit()

    def _replayed(self, handler: BaseHTTPRequestHandler, body: bytes) -> httpx.Response:
        method = "GET" if handler.command == "HEAD" else handler.command
        # The client's headers go to the transport (a scripted server may check `Authorization`, as vLLM's
        # --api-key does); the framing ones are the transport's own business.
        headers = [(k, v) for k, v in handler.headers.items() if k.lower() not in _FRAMING]
        request = httpx.Request(method, f"http://replay{handler.path}", headers=headers, content=body)
        try:
            return self.transport.handle_request(request)
        except ScenarioDivergence as exc:
            print(f"{exc}\n{LOOSE_HINT}", file=sys.stderr)
            return _error(handler.path, 400, f"{brief(exc)} · {LOOSE_HINT.strip()}")
        except Exception as exc:  # e.g. a scripted server out of replies: answer like the server would, as an error
            return _error(handler.path, 500, f"{type(exc).__name__}: {exc}")


_FRAMING = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


def _reason(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (httpx.ResponseNotRead, ValueError, AttributeError):
        return "(streamed)"
    return str(error.get("message") if isinstance(error, dict) else error)


def _error(path: str, status: int, message: str) -> httpx.Response:
    """An error as the asking client's API words it: OpenAI's `{"error": {"message": …}}` or Ollama's `{"error": …}`."""
    return error_response(status, message) if is_openai(path) else httpx.Response(status, json={"error": message})


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless remote clients are explicitly allowed."""
    if not allow_remote and not is_loopback(host):
        raise ConfigError(
            f"will not listen on {host!r}, which other machines may reach: they could read the recorded conversation. "
            "Serve loopback only with --bind 127.0.0.1 (the default), or add --allow-remote if you mean it."
        )


LOOSE_HINT = (
    "  Not castling's own agent? Other tool loops send requests of their own shape (thinking sent back, other tool "
    "descriptions): `castling serve --loose FILE` serves the replies in order whatever is asked."
)


def brief(exc: ScenarioDivergence) -> str:
    """The divergence in one line for the client; the full diff goes to the server's console.

    Clients such as the chat show an error as one line, and a whole structural diff folded into it is unreadable.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep = [lines[0]] if lines else []
    keep += [line for line in lines if line.startswith(("First difference", "Likely cause"))]
    has_diff = any(line.startswith(("recorded:", "this run:")) for line in lines)
    return " · ".join(keep + (["full diff on the castling serve console"] if has_diff else []))


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
        handler: Any = (
            ScriptedFromScenario(scenario).model_transport()
            if loose
            else ModelReplay(scenario, path, commit_on_send=True)
        )
        super().__init__(handler, host=host, port=port, delay=delay, allow_remote=allow_remote, one_at_a_time=True)
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
