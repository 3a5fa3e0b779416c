"""`castling serve` answers as an Ollama server does: checked with the official client against a real process."""

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import ollama
import pytest

from castling.scenarios.store import load, save
from tests.scenarios.scenario_helpers import LIBRARY
from tests.scenarios.serve_helpers import HELLO, OPTIONS, Served, serving

LIVE = LIBRARY / "live" / "dotnet-llama3.1-basicrequestresponse-streaming.yaml"


@pytest.fixture
def served() -> Iterator[Served]:
    with serving(LIVE) as server:
        yield server


def test_a_diverging_request_does_not_use_up_its_turn(served: Served):
    with pytest.raises(ollama.ResponseError) as info:
        served.client.chat(model="llama3.1", messages=[{"role": "user", "content": "helo"}], stream=False)
    assert info.value.status_code == 400
    assert "diverged at model turn 0 of 1" in info.value.error
    assert "castling serve --loose FILE" in info.value.error  # the way out for third-party tool loops
    assert served.ask("GET", "/api/nothing")[0] == 404  # a stray request in between changes nothing either
    assert served.hello().startswith("Hello! How are you today?")  # turn 0 is still there


def test_a_second_divergence_still_names_turn_0(served: Served):
    for _ in range(2):
        with pytest.raises(ollama.ResponseError) as info:
            served.client.chat(model="llama3.1", messages=[{"role": "user", "content": "helo"}], stream=False)
        assert "diverged at model turn 0" in info.value.error and "only 1 turns" not in info.value.error


def test_a_client_that_hangs_up_mid_stream_leaves_the_turn():
    with serving(LIVE, "--delay", "0.05") as served:
        connection = served.connection()
        body = json.dumps({"model": "llama3.1", "messages": HELLO, "options": OPTIONS})
        connection.request("POST", "/api/chat", body=body)
        response = connection.getresponse()
        assert response.status == 200 and response.readline().startswith(b"{")  # the first chunk arrived
        response.close()  # then the client goes away (the response holds the socket open until it closes too)
        connection.close()
        assert served.hello().startswith("Hello! How are you today?")
        with pytest.raises(ollama.ResponseError, match="only 1 turns were recorded"):
            served.hello()  # delivered whole: now it is used up


def test_ollama_routes_and_errors(served: Served):
    assert served.ask("GET", "/") == (200, "Ollama is running")
    assert served.ask("HEAD", "/")[0] == 200
    assert served.ask("HEAD", "/api/nothing")[0] == 404
    assert served.ask("GET", "/api/nothing") == (404, "404 page not found")
    assert served.ask("GET", "/api/chat")[0] == 405
    assert served.ask("POST", "/api/chat", b"") == (400, '{"error":"missing request body"}')
    status, text = served.ask("POST", "/api/chat", b'{"model": "llama3.1", ')
    assert status == 400 and "invalid JSON" in text


def test_ps_and_model_names_as_ollama_knows_them(served: Served):
    assert [m.model for m in served.client.ps().models] == ["llama3.1"]
    assert "tools" in (served.client.show("llama3.1:latest").capabilities or [])
    with pytest.raises(ollama.ResponseError) as info:
        served.client.chat(model="mistral", messages=HELLO, stream=False)
    assert info.value.status_code == 404 and info.value.error == "model 'mistral' not found"
    assert served.hello(model="llama3.1:latest").startswith("Hello! How are you today?")  # llama3.1 = :latest


def test_http11_with_lengths_keep_alive_and_chunked_bodies(served: Served):
    connection = served.connection()
    connection.request("GET", "/api/version")
    first = connection.getresponse()
    assert first.version == 11 and first.getheader("Content-Length") == str(len(first.read()))
    body = b'{"model": "llama3.1", "messages": [{"role": "user", "content": "hello"}], '
    body += b'"options": {"num_predict": 20, "temperature": 0.5}}'
    connection.request("POST", "/api/chat", body=iter([body[:30], body[30:]]), encode_chunked=True)
    streamed = connection.getresponse()  # the same connection: the first answer ended by its length
    assert streamed.status == 200 and streamed.getheader("Transfer-Encoding") == "chunked"
    assert b"Hello" in streamed.read()
    connection.close()


def test_a_huge_request_does_not_flood_the_console(served: Served):
    huge = "x" * 2_000_000
    with pytest.raises(ollama.ResponseError) as info:
        served.client.chat(model="llama3.1", messages=[{"role": "user", "content": huge}], stream=False)
    assert len(info.value.error) < 2000
    served.proc.terminate()
    _, console = served.proc.communicate(timeout=10)
    assert "diverged at model turn 0" in console and len(console) < 20_000


def test_generate_is_served_when_recorded(tmp_path: Path):
    scenario = load(LIVE)
    turn = scenario.model_turns[0]
    turn.request.path = "/api/generate"
    turn.request.body = {"model": "llama3.1", "prompt": "hello", "options": OPTIONS}
    chunks = turn.response.chunks or []
    turn.response.chunks = [
        {"model": "llama3.1", "response": (c.get("message") or {}).get("content", ""), "done": c.get("done")}
        for c in chunks
    ]
    path = tmp_path / "generate.yaml"
    save(scenario, path)
    with serving(path) as served:
        with pytest.raises(ollama.ResponseError) as info:
            served.client.chat(model="llama3.1", messages=HELLO, options=OPTIONS, stream=False)
        assert info.value.status_code == 404 and "/api/chat is not recorded" in info.value.error
        answer = served.client.generate(model="llama3.1", prompt="hello", options=OPTIONS, stream=False)
        assert answer.response.startswith("Hello! How are you today?")


def test_raw_socket_sees_http11_status_line(served: Served):
    with socket.create_connection((served.host, served.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200") and b"Content-Length: 17" in reply


def test_loose_mode_names_a_live_file_for_what_it_is():
    with serving(LIVE, "--loose") as served:
        assert served.hello().startswith("Hello! How are you today?")
        with pytest.raises(ollama.ResponseError) as info:
            served.hello()
    assert "the scenario file (live recording) holds 1 model reply, all already sent" in info.value.error
    assert "constructed script" not in info.value.error
