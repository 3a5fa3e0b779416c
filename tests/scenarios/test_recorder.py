import asyncio
import gzip
import json
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import ollama

from castling.scenarios.recorder import Capture, RecordingTransport
from castling.testing import ScriptedOllama

LINES = [
    {"model": "m", "message": {"role": "assistant", "content": "Hel"}, "done": False},
    {"model": "m", "message": {"role": "assistant", "content": "lo"}, "done": False},
    {
        "model": "m",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "eval_count": 2,
    },
]


class GatedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Sends the first line, then waits until the test says it received it (a buffering recorder would hang)."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate
        self.waited_ok: list[bool] = []

    def __iter__(self) -> Iterator[bytes]:
        yield json.dumps(LINES[0]).encode() + b"\n"
        self.waited_ok.append(self.gate.wait(timeout=5))
        for line in LINES[1:]:
            yield json.dumps(line).encode() + b"\n"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield json.dumps(LINES[0]).encode() + b"\n"
        for _ in range(500):
            if self.gate.is_set():
                break
            await asyncio.sleep(0.01)
        self.waited_ok.append(self.gate.is_set())
        for line in LINES[1:]:
            yield json.dumps(line).encode() + b"\n"


def gated_server(stream: GatedStream) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/x-ndjson"}, stream=stream)

    return httpx.MockTransport(handle)


def test_chunks_reach_the_caller_before_the_stream_ends_sync():
    gate = threading.Event()
    stream = GatedStream(gate)
    capture = Capture()
    client = ollama.Client(transport=RecordingTransport(gated_server(stream), capture, kind="ollama"))
    seen = []
    for chunk in client.chat(model="m", messages=[{"role": "user", "content": "hi"}], stream=True):
        seen.append(chunk.message.content)
        gate.set()  # only possible if the first chunk arrived while the server was still holding the rest
    assert stream.waited_ok == [True]
    assert seen == ["Hel", "lo", ""]
    turn = capture.turns()[0]
    assert turn.response.chunks == LINES and not turn.response.interrupted
    assert turn.summary.content == "Hello" and turn.summary.completion_tokens == 2
    assert turn.request.body["messages"] == [{"role": "user", "content": "hi"}]


async def test_chunks_reach_the_caller_before_the_stream_ends_async():
    gate = threading.Event()
    stream = GatedStream(gate)
    capture = Capture()
    client = ollama.AsyncClient(transport=RecordingTransport(gated_server(stream), capture, kind="ollama"))
    seen = []
    async for chunk in await client.chat(model="m", messages=[{"role": "user", "content": "hi"}], stream=True):
        seen.append(chunk.message.content)
        gate.set()
    assert stream.waited_ok == [True]
    assert seen == ["Hel", "lo", ""]
    assert capture.turns()[0].response.chunks == LINES


def test_stream_abandoned_early_is_kept_marked_interrupted():
    server = ScriptedOllama("m")
    server.add_reply("a long reply in many pieces", chunk_size=2)
    capture = Capture()
    client = httpx.Client(transport=RecordingTransport(server.transport, capture, kind="ollama"), base_url="http://o")
    with client.stream("POST", "/api/chat", json={"model": "m", "messages": []}) as response:
        first = next(response.iter_lines())
    turn = capture.turns()[0]
    assert json.loads(first)["message"]["content"] == "a "
    assert turn.response.interrupted
    all_lines = len(server.replies) + 15  # 14 text pieces + the done line were scripted
    assert 1 <= len(turn.response.chunks or []) < all_lines


def test_tool_http_redacts_secrets_and_stores_decoded_body():
    page = b"<html><title>T</title></html>"

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": "text/html", "content-encoding": "gzip", "set-cookie": "s=1"},
            content=gzip.compress(page),
        )

    capture = Capture()
    transport = RecordingTransport(httpx.MockTransport(handle), capture, kind="http", tool="fetch")
    with httpx.Client(transport=transport) as client:
        got = client.get("https://site.test/x?q=1", headers={"Authorization": "Bearer sk-123", "X-Trace": "t"})
    assert got.content == page
    exchange = capture.tool_http[0]
    assert exchange.request.headers["authorization"] == "<redacted>"
    assert "sk-123" not in json.dumps(exchange.model_dump())
    assert exchange.request.headers["x-trace"] == "t"
    assert exchange.response.body == page.decode()
    assert "set-cookie" not in exchange.response.headers and "content-encoding" not in exchange.response.headers
    assert capture.redactions == {"header:authorization"}


def test_tools_owning_their_transport_are_recorded_through_a_wrapper():
    from castling.scenarios.library_tools import page_title_tool
    from castling.scenarios.runner import recording_wrapper

    capture = Capture()
    wrap = recording_wrapper(capture)
    site = httpx.MockTransport(lambda request: httpx.Response(200, text="<title>Wrapped</title>"))
    tool = page_title_tool(lambda _network: wrap(site))
    assert tool.invoke({"url": "https://site.test/"}) == "Wrapped"
    assert [(e.request.url, e.response.body) for e in capture.tool_http] == [
        ("https://site.test/", "<title>Wrapped</title>")
    ]
