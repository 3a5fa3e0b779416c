"""`castling serve` hardening, against the real server on loopback and the real command: Host and Origin of this
machine only (DNS rebinding), bounded bodies and connections, and one clear line instead of a traceback."""

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from castling.scenarios.serve import ReplayServer, TransportServer
from castling.scenarios.serve_guard import MAX_BODY
from tests.scenarios.scenario_helpers import LIBRARY

LIVE = LIBRARY / "live" / "dotnet-llama3.1-basicrequestresponse-streaming.yaml"


def ask(url: str, head: str, body: bytes = b"") -> tuple[int, str]:
    """Send `head` (request line and headers, without the blank line) and `body`; the status and body returned."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as connection:
        head += "\nConnection: close"  # HTTP/1.1 keeps connections open: read this answer to the end of the connection
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2].decode()


def get(url: str, **headers: str) -> tuple[int, str]:
    lines = [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ask(url, "\n".join(["GET /api/tags HTTP/1.1", *lines]))


@pytest.fixture
def served() -> Iterator[ReplayServer]:
    server = ReplayServer(LIVE, port=0).start()
    yield server
    server.stop()


def test_a_request_for_another_host_name_is_refused(served: ReplayServer):
    port = served.url.rsplit(":", 1)[1]
    status, body = get(served.url, Host=f"rebind.attacker.example:{port}")
    assert status == 403
    error = json.loads(body)["error"]
    assert "'rebind.attacker.example:" in error and "DNS rebinding" in error and "localhost" in error


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_the_loopback_names_are_answered(served: ReplayServer, host: str):
    port = served.url.rsplit(":", 1)[1]
    status, body = get(served.url, Host=f"{host}:{port}")
    assert status == 200 and json.loads(body)["models"][0]["model"] == "llama3.1"


def test_an_origin_from_elsewhere_is_refused_and_one_from_this_machine_answered(served: ReplayServer):
    status, body = get(served.url, Host="127.0.0.1", Origin="http://rebind.attacker.example")
    assert status == 403 and "Origin 'http://rebind.attacker.example'" in json.loads(body)["error"]
    assert get(served.url, Host="127.0.0.1", Origin="null")[0] == 403
    assert get(served.url, Host="127.0.0.1", Origin="http://localhost:3000")[0] == 200


def test_the_bound_address_is_a_good_host_too():
    server = ReplayServer(LIVE, host="127.0.0.2", port=0).start()
    try:
        port = server.url.rsplit(":", 1)[1]
        assert get(server.url, Host=f"127.0.0.2:{port}")[0] == 200
        assert get(server.url, Host=f"127.0.0.3:{port}")[0] == 403
    finally:
        server.stop()


def test_a_huge_body_is_refused_from_its_length_without_being_read(served: ReplayServer):
    # Only the headers are sent: the answer comes although the body never does.
    status, body = ask(served.url, f"POST /api/chat HTTP/1.1\nHost: 127.0.0.1\nContent-Length: {10 * 1024**3}")
    assert status == 413
    assert json.loads(body)["error"] == (
        f"the request body of {10 * 1024**3} bytes is over castling serve's limit of {MAX_BODY} bytes"
    )


CHUNKED = "POST /api/chat HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked"


def test_a_malformed_length_is_a_clear_error_and_a_chunked_body_is_read(served: ReplayServer):
    status, body = ask(served.url, "POST /api/chat HTTP/1.1\nHost: 127.0.0.1\nContent-Length: lots")
    assert status == 400 and "Content-Length must be a number of bytes, not 'lots'" in body
    status, body = ask(served.url, CHUNKED, b'8\r\n{"model"\r\nc\r\n: "mistral"}\r\n0\r\n\r\n')
    assert status == 404 and json.loads(body) == {"error": "model 'mistral' not found"}  # the body was read
    status, body = ask(served.url, CHUNKED, b"zz\r\n{}\r\n0\r\n\r\n")
    assert status == 400 and "malformed chunked request body" in body


def test_a_chunked_body_over_the_limit_is_refused():
    server = TransportServer(httpx.MockTransport(lambda r: httpx.Response(200)), port=0, max_body=10).start()
    try:
        status, body = ask(server.url, CHUNKED, b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
        assert status == 413 and "over castling serve's limit of 10 bytes" in body
    finally:
        server.stop()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_connections_over_the_limit_are_answered_busy_and_served_again_once_one_closes():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"version": "0.0.0"}))
    server = TransportServer(transport, port=0, max_connections=3).start()
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    idle = [socket.create_connection((host, int(port))) for _ in range(3)]  # connected, saying nothing
    try:
        wait_until(lambda: server.httpd.open_connections == 3, "the idle connections to be accepted")
        status, body = get(server.url, Host="127.0.0.1")
        assert status == 503 and "busy: 3 connections are open already" in body
    finally:
        for connection in idle:
            connection.close()
    wait_until(lambda: server.httpd.open_connections == 0, "the idle connections to end")
    assert get(server.url, Host="127.0.0.1") == (200, '{"version":"0.0.0"}')
    server.stop()


def test_a_client_hanging_up_mid_stream_prints_no_traceback(capfd: pytest.CaptureFixture[str]):
    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=(b'{"message": "%d"}\n' % i for i in range(2000)))

    server = TransportServer(httpx.MockTransport(endless), port=0, delay=0.002).start()
    try:
        with httpx.stream("POST", f"{server.url}/api/chat", content=b"{}") as response:
            next(response.iter_lines())
        wait_until(lambda: server.httpd.open_connections == 0, "the server to notice the client left")
        assert get(server.url, Host="127.0.0.1")[0] == 200  # and it still serves
    finally:
        server.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err


def castling_serve(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "castling.cli.main", "serve", str(LIVE), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def test_a_non_loopback_bind_is_refused_in_one_line_unless_allowed():
    done = castling_serve("--bind", "0.0.0.0", "--port", "0")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "will not listen on '0.0.0.0'" in done.stderr
    assert "--allow-remote" in done.stderr


def test_a_busy_port_is_one_line_with_what_to_do():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = castling_serve("--port", str(port))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (
        f"castling serve: port {port} on 127.0.0.1 is already in use (Ollama, or another castling serve?): "
        "pick another with --port\n"
    )
