"""Scenarios on the OpenAI wire: recording SSE, replaying it, matching, divergences (constructed vLLM-shaped)."""

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from castling.scenarios.errors import ModelTurnDiverged
from castling.scenarios.live import ServerLive
from castling.scenarios.recorder import Capture, RecordingTransport
from castling.scenarios.replayer import ModelReplay
from castling.scenarios.runner import run_file
from castling.scenarios.store import load, save
from tests.scenarios.openai_helpers import (
    ANSWER_CHUNKS,
    CALLS_CHUNKS,
    HOST,
    MODEL,
    MODELS_BODY,
    first_request,
    openai_weather_scenario,
    scripted_vllm,
    second_request,
    sse_bytes,
)


class GatedSse(httpx.SyncByteStream):
    """Sends the first event, then waits until the test has received it (a buffering recorder would hang)."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate
        self.waited_ok: list[bool] = []

    def __iter__(self) -> Iterator[bytes]:
        body = sse_bytes(CALLS_CHUNKS)
        first, rest = body.split(b"\n\n", 1)
        yield first + b"\n\n"
        self.waited_ok.append(self.gate.wait(timeout=5))
        yield rest


def test_sse_reaches_the_caller_before_the_stream_ends_and_is_stored_as_json_chunks():
    gate = threading.Event()
    stream = GatedSse(gate)
    server = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)
    )
    capture = Capture()
    with httpx.Client(transport=RecordingTransport(server, capture, kind="ollama"), base_url=HOST) as client:
        with client.stream("POST", "/chat/completions", json=first_request()) as response:
            lines = []
            for line in response.iter_lines():
                lines.append(line)
                gate.set()  # only possible if the first event arrived while the server still held the rest
    assert stream.waited_ok == [True]
    events = [line for line in lines if line]
    assert events[0].startswith("data: {") and events[-1] == "data: [DONE]" and len(events) == len(CALLS_CHUNKS) + 1
    turn = capture.turns()[0]
    assert turn.request.path == "/v1/chat/completions" and turn.request.body == first_request()
    assert turn.response.content_type == "text/event-stream" and turn.response.chunks == CALLS_CHUNKS
    assert not turn.response.interrupted
    summary = turn.summary
    assert summary.thinking == "Two cities: call weather twice."
    assert summary.tool_calls == [
        {"name": "weather", "arguments": {"city": "Paris"}},  # fragments joined by index, split mid-token
        {"name": "weather", "arguments": {"city": "Rome"}},
    ]
    assert (summary.done_reason, summary.prompt_tokens, summary.completion_tokens) == ("tool_calls", 120, 31)


def _record_from_scripted_vllm(path: Path) -> bytes:
    """Record two turns and a model listing from a scripted vLLM; return the first stream's bytes as sent."""
    capture = Capture()
    transport = RecordingTransport(scripted_vllm([CALLS_CHUNKS, ANSWER_CHUNKS]), capture, kind="ollama")
    with httpx.Client(transport=transport, base_url=HOST) as client:
        assert client.get("/models").json() == MODELS_BODY
        sent = client.post("/chat/completions", json=first_request()).content
        client.post("/chat/completions", json=second_request()).read()
    scenario = openai_weather_scenario().model_copy(update={"model_turns": capture.turns(), "server": capture.server})
    save(scenario, path)
    return sent


def test_recorded_sse_replays_byte_for_byte_with_the_model_listing(tmp_path: Path):
    path = tmp_path / "openai-weather.yaml"
    sent = _record_from_scripted_vllm(path)
    scenario = load(path)
    assert [e.path for e in scenario.server] == ["/v1/models"]
    with httpx.Client(transport=ModelReplay(scenario, path), base_url=HOST) as client:
        assert client.get("/models").json() == MODELS_BODY  # the recorded listing, max_model_len included
        replayed = client.post("/chat/completions", json=first_request())
        assert replayed.headers["content-type"] == "text/event-stream"
        assert replayed.content == sent
        assert client.post("/chat/completions", json=second_request()).content == sse_bytes(ANSWER_CHUNKS)


def test_a_non_streaming_client_gets_one_completion_with_the_calls_assembled(tmp_path: Path):
    scenario = openai_weather_scenario()
    body = {**first_request(), "stream": False}
    del body["stream_options"]
    with httpx.Client(transport=ModelReplay(scenario, tmp_path / "s.yaml"), base_url=HOST) as client:
        completion = client.post("/chat/completions", json=body).json()
    assert completion["object"] == "chat.completion"
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["reasoning_content"] == "Two cities: call weather twice."
    assert [(c["id"], c["function"]["arguments"]) for c in choice["message"]["tool_calls"]] == [
        ("chatcmpl-tool-a1", '{"city": "Paris"}'),
        ("chatcmpl-tool-b2", '{"city": "Rome"}'),
    ]
    assert completion["usage"]["completion_tokens"] == 31


def test_a_recorded_completion_is_streamed_to_a_streaming_client(tmp_path: Path):
    scenario = openai_weather_scenario()
    completion = {
        "id": "c1",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    turn = scenario.model_turns[0]
    turn.response.chunks, turn.response.body, turn.response.content_type = None, completion, "application/json"
    with httpx.Client(transport=ModelReplay(scenario, tmp_path / "s.yaml"), base_url=HOST) as client:
        lines = [line for line in client.post("/chat/completions", json=first_request()).iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "Hi."
    assert chunks[-1]["usage"]["total_tokens"] == 7


def test_an_abandoned_stream_is_kept_interrupted_and_replayed_without_done(tmp_path: Path):
    capture = Capture()
    transport = RecordingTransport(scripted_vllm([CALLS_CHUNKS]), capture, kind="ollama")
    with httpx.Client(transport=transport, base_url=HOST) as client:
        with client.stream("POST", "/chat/completions", json=first_request()) as response:
            next(response.iter_raw(64))
    turn = capture.turns()[0]
    assert turn.response.interrupted
    scenario = openai_weather_scenario().model_copy(update={"model_turns": [turn]})
    with httpx.Client(transport=ModelReplay(scenario, tmp_path / "s.yaml"), base_url=HOST) as client:
        replayed = client.post("/chat/completions", json=first_request()).text
    assert "[DONE]" not in replayed


def test_models_listing_is_derived_when_not_recorded(tmp_path: Path):
    scenario = openai_weather_scenario().model_copy(update={"server": []})
    with httpx.Client(transport=ModelReplay(scenario, tmp_path / "s.yaml"), base_url=HOST) as client:
        listing = client.get("/models").json()
        missing = client.get("/models/other-model")
    assert [m["id"] for m in listing["data"]] == [MODEL]
    assert missing.status_code == 404 and "other-model" in missing.json()["error"]["message"]


def _replay_second(body: dict[str, object], tmp_path: Path, source: str = "constructed") -> httpx.Response:
    scenario = openai_weather_scenario(source)
    replay = ModelReplay(scenario, tmp_path / "openai-weather.yaml")
    with httpx.Client(transport=replay, base_url=HOST) as client:
        client.post("/chat/completions", json=first_request()).read()
        return client.post("/chat/completions", json=body)


def test_matching_ignores_stream_options_ids_and_argument_spacing(tmp_path: Path):
    body = second_request()
    body["stream_options"] = {"include_usage": False}
    messages = body["messages"]
    for old, new in (("chatcmpl-tool-a1", "call_x"), ("chatcmpl-tool-b2", "call_y")):
        for message in messages:
            for call in message.get("tool_calls", []):
                call["id"] = new if call["id"] == old else call["id"]
            if message.get("tool_call_id") == old:
                message["tool_call_id"] = new
    messages[2]["tool_calls"][0]["function"]["arguments"] = '{"city":"Paris"}'
    assert _replay_second(body, tmp_path).status_code == 200


def test_a_result_sent_for_the_other_call_diverges(tmp_path: Path):
    body = second_request()
    body["messages"][3]["tool_call_id"], body["messages"][4]["tool_call_id"] = "chatcmpl-tool-b2", "chatcmpl-tool-a1"
    with pytest.raises(ModelTurnDiverged) as info:
        _replay_second(body, tmp_path)
    assert "First difference at $.messages[3].tool_call_id" in str(info.value)


def test_divergence_names_the_route_the_api_and_the_tool(tmp_path: Path):
    body = second_request()
    body["messages"][4]["content"] = "25 °C, rain"
    with pytest.raises(ModelTurnDiverged) as info:
        _replay_second(body, tmp_path, source="live")
    text = str(info.value)
    assert "diverged at model turn 1 of 2 (POST /v1/chat/completions, OpenAI-compatible API)" in text
    assert "First difference at $.messages[4].content  (role=tool, tool=weather)" in text
    assert "Likely cause: the output of the weather tool changed" in text
    assert f"needs a running OpenAI-compatible server (vLLM, llama.cpp, …) with {MODEL}" in text


def test_a_top_level_sampling_setting_is_named_as_an_options_change(tmp_path: Path):
    body = {**second_request(), "temperature": 0.2}
    with pytest.raises(ModelTurnDiverged, match="Likely cause: the model options changed"):
        _replay_second(body, tmp_path)


def test_wire_scenario_replays_and_rerecords_from_its_own_replies(tmp_path: Path):
    path = tmp_path / "openai-weather.yaml"
    save(openai_weather_scenario(), path)
    report = run_file(path)
    assert report.status == "passed", report.message()
    assert report.outcome is not None and report.outcome.final_answer == "Paris: 18 °C, sunny. Rome: 21 °C, clear."
    assert [c.arguments for c in report.outcome.tool_calls] == [{"city": "Paris"}, {"city": "Rome"}]
    assert report.outcome.prompt_tokens == 310
    rerecorded = run_file(path, "record")  # constructed: served from its own replies, no server needed
    assert rerecorded.saved, rerecorded.message()
    turn = load(path).model_turns[0]
    assert turn.request.path == "/v1/chat/completions" and turn.response.chunks == CALLS_CHUNKS
    assert run_file(path).status == "passed"


def test_wire_scenario_rerecords_from_a_scripted_server(tmp_path: Path):
    path = tmp_path / "openai-weather.yaml"
    save(openai_weather_scenario(), path)
    live = ServerLive(scripted_vllm([CALLS_CHUNKS, ANSWER_CHUNKS]))
    live.host = HOST
    assert run_file(path, "record", live=live).saved
    assert load(path).model_turns[1].response.chunks == ANSWER_CHUNKS


def test_castling_replay_records_a_live_openai_scenario_from_the_host_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    from castling.cli.main import main
    from castling.scenarios.serve import TransportServer

    path = tmp_path / "openai-weather.yaml"
    save(openai_weather_scenario(source="live"), path)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on port 9
    assert main(["replay", str(path), "--mode", "record"]) == 1  # not OLLAMA_HOST: the OpenAI server's default
    assert "cannot reach the server at http://127.0.0.1:9" in capsys.readouterr().err
    assert load(path) == openai_weather_scenario(source="live")  # nothing saved
    server = TransportServer(scripted_vllm([CALLS_CHUNKS, ANSWER_CHUNKS]), port=0).start()
    try:
        assert main(["replay", str(path), "--mode", "record", "--host", server.url + "/v1"]) == 0
    finally:
        server.stop()
    recorded = load(path)
    assert recorded.recording.source == "live" and recorded.recording.recorded_at
    assert [t.request.path for t in recorded.model_turns] == ["/v1/chat/completions"] * 2
    assert recorded.model_turns[0].response.chunks == CALLS_CHUNKS  # over a real socket, SSE parsed back
    assert run_file(path).status == "passed"


def test_the_api_key_sent_to_the_server_is_not_written_to_the_file(tmp_path: Path):
    capture = Capture()
    transport = RecordingTransport(scripted_vllm([CALLS_CHUNKS]), capture, kind="ollama")
    headers = {"Authorization": "Bearer sk-live-0123456789"}
    with httpx.Client(transport=transport, base_url=HOST, headers=headers) as client:
        client.get("/models").read()
        client.post("/chat/completions", json=first_request()).read()
    path = tmp_path / "s.yaml"
    save(openai_weather_scenario().model_copy(update={"model_turns": capture.turns(), "server": capture.server}), path)
    assert "sk-live-0123456789" not in path.read_text()
    assert len(load(path).model_turns) == 1 and load(path).server[0].path == "/v1/models"


def test_sse_without_blank_lines_and_a_bare_error_event_are_recorded_as_a_client_reads_them(tmp_path: Path):
    body = (
        "data: " + json.dumps(CALLS_CHUNKS[0]) + "\n"  # one-line events with no blank line between them
        "data: " + json.dumps(ANSWER_CHUNKS[1]) + "\n"
        ": keep-alive comment\n"
        "event: error\ndata: the model runner crashed\n\n"
        "data: [DONE]\n\n"
    ).encode()
    server = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    )
    capture = Capture()
    with httpx.Client(transport=RecordingTransport(server, capture, kind="ollama"), base_url=HOST) as client:
        client.post("/chat/completions", json=first_request()).read()
    assert capture.turns()[0].response.chunks == [
        CALLS_CHUNKS[0],
        ANSWER_CHUNKS[1],
        {"error": {"message": "the model runner crashed"}},
    ]
