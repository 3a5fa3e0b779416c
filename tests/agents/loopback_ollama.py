"""`ScriptedOllama` served over real HTTP on loopback, for agents running in other processes.

`hold(n)` makes the n-th `/api/chat` request wait: the event it returns is set when the request comes in, and it
waits until `release()`. Released with `answer=False` (the default, and what closing the server does), it gets no
reply and takes none from the script: the test has killed the process that sent it, and whoever resumes the run
gets the reply that was meant for it. Released with `answer=True`, it is answered as usual.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from castling.testing import ScriptedOllama


class LoopbackOllama:
    def __init__(self, script: ScriptedOllama) -> None:
        self.script = script
        self.chat_calls = 0
        self.held: dict[int, threading.Event] = {}
        self._release = threading.Event()
        self._answer_held = False
        self._count = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def hold(self, call: int) -> threading.Event:
        """Hold the `call`-th chat request (1-based); the event is set when it arrives."""
        self.held[call] = threading.Event()
        return self.held[call]

    def release(self, *, answer: bool = False) -> None:
        self._answer_held = answer
        self._release.set()

    def __enter__(self) -> LoopbackOllama:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._release.is_set():
            self.release()
        self.server.shutdown()
        self.server.server_close()

    def _held(self, path: str) -> bool:
        if path != "/api/chat":
            return False
        with self._count:
            self.chat_calls += 1
            arrived = self.held.get(self.chat_calls)
        if arrived is None:
            return False
        arrived.set()
        self._release.wait()
        return not self._answer_held

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(b"")

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _answer(self, body: bytes) -> None:
                if stub._held(self.path):
                    self.close_connection = True
                    return
                request = httpx.Request(self.command, f"http://ollama{self.path}", content=body)
                response = stub.script.handle(request)
                data = response.read()
                self.send_response(response.status_code)
                self.send_header("Content-Type", response.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
