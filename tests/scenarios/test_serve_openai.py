"""`castling serve` on the OpenAI wire: a real httpx client over loopback, as a vLLM client would talk to it."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from castling.scenarios.format import REPLAY_HEADER
from castling.scenarios.serve import ReplayServer
from castling.scenarios.store import save
from tests.scenarios.openai_helpers import (
    ANSWER_CHUNKS,
    CALLS_CHUNKS,
    MODEL,
    MODELS_BODY,
    first_request,
    openai_weather_scenario,
    second_request,
    sse_bytes,
)
from tests.scenarios.scenario_helpers import LIBRARY
from tests.scenarios.test_serve_guard import ask

VLLM = LIBRARY / "live" / "vllm-qwen3-0.6b-think-in-content-toolcall.yaml"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ReplayServer]:
    path = tmp_path / "openai-weather.yaml"
    save(openai_weather_scenario(), path)
    server = ReplayServer(path, port=0).start()
    yield server
    server.stop()


def test_models_and_a_streamed_chat_over_loopback(served: ReplayServer):
    with httpx.Client(base_url=served.url + "/v1") as client:
        models = client.get("/models")
        assert models.json() == MODELS_BODY and models.headers[REPLAY_HEADER] == "openai-weather.yaml"
        with client.stream("POST", "/chat/completions", json=first_request()) as response:
            assert response.headers["content-type"] == "text/event-stream"
            body = b"".join(response.iter_raw())
        assert body == sse_bytes(CALLS_CHUNKS)  # the events as recorded, then data: [DONE]
        answer = client.post("/chat/completions", json={**second_request(), "stream": False}).json()
    assert answer["choices"][0]["message"]["content"] == "".join(
        c["choices"][0]["delta"].get("content", "") for c in ANSWER_CHUNKS if c["choices"]
    )


def test_a_divergence_is_a_400_in_the_openai_error_shape(served: ReplayServer, capsys: pytest.CaptureFixture[str]):
    body = first_request()
    body["messages"][1]["content"] = "Weather in Oslo?"
    response = httpx.post(served.url + "/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "BadRequestError"
    assert "(POST /v1/chat/completions, OpenAI-compatible API)" in error["message"]
    assert "First difference at $.messages[1].content" in capsys.readouterr().err  # the full diff on the console


def test_bad_requests_on_v1_routes_are_openai_shaped_errors_that_leave_the_turn(served: ReplayServer):
    with httpx.Client(base_url=served.url + "/v1") as client:
        assert client.get("/chat/completions").status_code == 405
        malformed = client.post("/chat/completions", content=b"{not json")
        assert malformed.status_code == 400 and "invalid JSON" in malformed.json()["error"]["message"]
        unknown = client.post("/chat/completions", json={**first_request(), "model": "gpt-4o"})
        assert unknown.status_code == 404 and "gpt-4o" in unknown.json()["error"]["message"]
        answered = client.post("/chat/completions", json=first_request())  # turn 0 is still there
        assert answered.status_code == 200


def test_the_guard_applies_to_v1_routes(served: ReplayServer):
    refused = httpx.get(served.url + "/v1/models", headers={"Host": "attacker.example"})
    assert refused.status_code == 403
    assert "Host" in refused.json()["error"]["message"]
    head = f"POST /v1/chat/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Length: {10 * 1024**3}"
    status, body = ask(served.url, head)
    assert status == 413 and "over castling serve's limit" in json.loads(body)["error"]["message"]


def test_castling_serve_in_a_real_process_serves_real_vllm_traffic():
    proc = subprocess.Popen(
        [sys.executable, "-m", "castling.cli.main", "serve", str(VLLM), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline() + proc.stdout.readline()
        assert "OpenAI-compatible API" in banner, banner
        url = banner.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:") and f"--server openai --host {url}/v1 -m {MODEL_07}" in banner
        request = json.loads(json.dumps(_recorded_request()))
        with httpx.Client(base_url=url + "/v1") as client:
            assert [m["id"] for m in client.get("/models").json()["data"]] == [MODEL_07]
            with client.stream("POST", "/chat/completions", json={**request, "stream": True}) as response:
                events = [line for line in response.iter_lines() if line]
        assert events[-1] == "data: [DONE]"
        chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
        calls = [c for chunk in chunks if chunk["choices"] for c in chunk["choices"][0]["delta"].get("tool_calls", [])]
        assert calls[0]["function"]["name"] == "calculate" and calls[0]["id"] == "chatcmpl-tool-abab3e46615eb503"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


MODEL_07 = "Qwen/Qwen3-0.6B"


def _recorded_request() -> dict[str, object]:
    from castling.scenarios.store import load

    body = load(VLLM).model_turns[0].request.body
    assert isinstance(body, dict)
    return body


def test_unknown_model_listing_entry_is_a_404(served: ReplayServer):
    response = httpx.get(served.url + f"/v1/models/{MODEL}-other")
    assert response.status_code == 404 and "does not exist" in response.json()["error"]["message"]
