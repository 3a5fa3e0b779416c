"""Real loopback servers the command tests share: a port that refuses connections, and a keyed OpenAI server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from castling.scenarios.serve import TransportServer
from castling.scripted_openai import ScriptedOpenAI

KEY = "sk-test-0123456789"
MODEL = "Qwen/Qwen3-8B"


def refusing_url() -> str:
    """A loopback URL where nothing listens (a port bound, then closed: connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class KeyedServer:
    """A scripted OpenAI-compatible server that answers only requests carrying `Authorization: Bearer <key>`.

    Like OpenAI's own API, its 401 quotes the key it refused, so tests can check castling never shows it.
    """

    def __init__(self, replies: int | list[str], key: str = KEY) -> None:
        self.key = key
        """The key it accepts now (a test may change it: a key rotated on the server)."""
        self.scripted = ScriptedOpenAI(MODEL)
        texts = ["The capital of Italy is Rome."] * replies if isinstance(replies, int) else replies
        for text in texts:
            self.scripted.add_reply(text)
        self.authorizations: list[str] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        given = request.headers.get("authorization", "")
        self.authorizations.append(given)
        if given != f"Bearer {self.key}":
            refused = given.removeprefix("Bearer ")
            message = f"Incorrect API key provided: {refused!r}" if refused else "Invalid API key"
            return httpx.Response(401, json={"error": {"message": message, "type": "auth", "code": 401}})
        return self.scripted.handle(request)


@contextmanager
def serving(server: KeyedServer) -> Iterator[str]:
    """`server` on a real loopback port; yields its OpenAI base URL (…/v1)."""
    running = TransportServer(server.transport, port=0).start()
    try:
        yield running.url + "/v1"
    finally:
        running.stop()
