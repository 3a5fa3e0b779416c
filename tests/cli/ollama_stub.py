"""A small Ollama stand-in on loopback (stdlib http.server in a thread) serving recorded `/api/chat` streams.

It answers `/api/tags`, `/api/show`, `/api/version`, and streams each queued reply as chunked NDJSON, one line
every `delay` seconds, noting when the client hangs up mid-stream (what Ollama sees when a reply is cancelled).
"""

from __future__ import annotations

import json
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
        self.replies: list[tuple[list[str], float, bool]] = []
        self.requests: list[dict] = []
        self.hung_up = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def add(self, lines: list[str], delay: float = 0.0, *, hang_up: bool = False) -> None:
        """Queue a reply; `hang_up` closes the connection after the lines, without ending the chunked body."""
        self.replies.append((lines, delay, hang_up))

    def __enter__(self) -> OllamaStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, value: object) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/api/tags":
                    self._json(200, {"models": [{"name": m, "model": m, "size": 1} for m in stub.models]})
                else:
                    self._json(200, {"version": "0.12.10"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/api/show":
                    if body.get("model") not in stub.models:
                        return self._json(404, {"error": f"model '{body.get('model')}' not found"})
                    info = {"general.architecture": "llama", "llama.context_length": 8192}
                    return self._json(200, {"capabilities": stub.capabilities, "model_info": info, "details": {}})
                stub.requests.append(body)
                if not stub.replies:
                    return self._json(500, {"error": "the stub has no reply left"})
                lines, delay, hang_up = stub.replies.pop(0)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for line in lines:
                        data = line.encode() + b"\n"
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                        time.sleep(delay)
                    if hang_up:
                        self.close_connection = True
                        return None
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    stub.hung_up.set()
                    self.close_connection = True

        return Handler
