"""A small Ollama stand-in on loopback (stdlib http.server in a thread) serving recorded `/api/chat` streams.

It answers `/api/tags`, `/api/show`, `/api/ps`, `/api/version`, and streams each queued reply as chunked NDJSON,
one line every `delay` seconds, noting when the client hangs up mid-stream (what Ollama sees when a reply is
cancelled). For pools: it counts chat requests in progress (`active`, `peak`), can drop the connection after
some lines of a reply (`add(..., break_after=n)`), and `stop()` closes it the way a dying server does (the
listening socket and every open connection). `add(..., pause_after=n)` stops a reply after n lines (`paused` is
set) until the test calls `go_on()`: the test acts at a known point of the reply, not at a moment in time.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = "10_openllmetry_llama3_apichat_ndjson_stream.yaml"


def recorded_lines(name: str = RECORDED) -> list[str]:
    """The NDJSON lines of a recorded `/api/chat` stream (a vcrpy cassette)."""
    cassette = yaml.safe_load((FIXTURES / name).read_text())
    body = cassette["interactions"][0]["response"]["body"]["string"]
    return [line for line in body.split("\n") if line.strip()]


def text_lines(model: str, words: list[str]) -> list[str]:
    """A stream in the recorded shape: one chunk per word, then the done chunk with metrics."""
    chunks = [
        {
            "model": model,
            "created_at": "2024-05-24T20:26:46Z",
            "message": {"role": "assistant", "content": w},
            "done": False,
        }
        for w in words
    ]
    done = {
        "model": model,
        "created_at": "2024-05-24T20:26:47Z",
        "message": {"role": "assistant", "content": ""},
        "done_reason": "stop",
        "done": True,
        "total_duration": 1_000_000_000,
        "prompt_eval_count": 17,
        "prompt_eval_duration": 300_000_000,
        "eval_count": len(words),
        "eval_duration": 600_000_000,
    }
    return [json.dumps(c) for c in [*chunks, done]]


class OllamaStub:
    """Serve `models` and queued chat replies on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, models: list[str], capabilities: tuple[str, ...] = ("completion", "tools")) -> None:
        self.models = models
        self.capabilities = list(capabilities)
        self.replies: list[tuple[list[str], float, int | None, float, int | None]] = []
        self.requests: list[dict] = []
        self.loaded: list[str] = []
        """Models `/api/ps` reports as loaded."""
        self.hung_up = threading.Event()
        self.paused = threading.Event()
        """Set when a reply reached its `pause_after` line."""
        self._resume = threading.Event()
        self.active = 0
        """Chat requests being answered now."""
        self.peak = 0
        """The most chat requests ever answered at once."""
        self.lock = threading.Lock()
        self.connections: list[socket.socket] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.stub = self  # type: ignore[attr-defined]
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def add(
        self,
        lines: list[str],
        delay: float = 0.0,
        break_after: int | None = None,
        first: float = 0.0,
        pause_after: int | None = None,
    ) -> None:
        """Queue a reply; with `break_after`, the connection is dropped after that many lines; `first`: seconds
        before the first line (a model loading or thinking before it answers); with `pause_after`, the reply
        stops after that many lines until `go_on()`."""
        self.replies.append((lines, delay, break_after, first, pause_after))

    def go_on(self) -> None:
        """Let a paused reply continue."""
        self._resume.set()

    def __enter__(self) -> OllamaStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Die: stop listening (new connections are refused) and drop every open connection."""
        self._resume.set()  # a paused reply must not keep its thread waiting
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def stub(self) -> OllamaStub:
        return self.server.stub  # type: ignore[attr-defined,no-any-return]

    def log_message(self, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.stub.connections.append(self.connection)

    def _json(self, status: int, value: object) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/api/tags":
            self._json(200, {"models": [{"name": m, "model": m, "size": 1} for m in self.stub.models]})
        elif self.path == "/api/ps":
            self._json(200, {"models": [{"name": m, "model": m, "size": 1} for m in self.stub.loaded]})
        else:
            self._json(200, {"version": "0.12.10"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/api/show":
            if body.get("model") not in self.stub.models:
                return self._json(404, {"error": f"model '{body.get('model')}' not found"})
            info = {"general.architecture": "llama", "llama.context_length": 8192}
            return self._json(200, {"capabilities": self.stub.capabilities, "model_info": info, "details": {}})
        with self.stub.lock:
            self.stub.requests.append(body)
            reply = self.stub.replies.pop(0) if self.stub.replies else None
            self.stub.active += 1
            self.stub.peak = max(self.stub.peak, self.stub.active)
        self.answering = True
        try:
            if reply is None:
                return self._json(500, {"error": "the stub has no reply left"})
            self._stream(*reply)
        finally:
            self._done()

    def _done(self) -> None:
        with self.stub.lock:
            if self.answering:
                self.answering = False
                self.stub.active -= 1

    def _stream(
        self, lines: list[str], delay: float, break_after: int | None, first: float, pause_after: int | None
    ) -> None:
        time.sleep(first)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for number, line in enumerate(lines):
                if number == break_after:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)  # dies mid-reply
                    return
                if number == pause_after:
                    self.stub.paused.set()
                    self.stub._resume.wait()
                data = line.encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                time.sleep(delay)
            self._done()  # before the last bytes: the client cannot have finished before this
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.stub.hung_up.set()
            self.close_connection = True
