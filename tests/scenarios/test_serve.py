import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from castling.scenarios.replayer import ModelReplay
from castling.scenarios.serve import ReplayServer
from tests.scenarios.scenario_helpers import LIBRARY
from tests.scenarios.serve_helpers import DOTNET, HELLO, OPTIONS, dotnet_conversation, serving

SINGLE = LIBRARY / "qwen" / "weather-single.yaml"
LIVE = LIBRARY / "live" / "dotnet-llama3.1-basicrequestresponse-streaming.yaml"


@pytest.fixture
def served() -> Iterator[ReplayServer]:
    server = ReplayServer(LIVE, port=0).start()
    yield server
    server.stop()


def test_discovery_endpoints(served: ReplayServer):
    client = ollama.Client(host=served.url)
    assert client.list().models[0].model == "llama3.1"
    assert "tools" in (client.show("llama3.1").capabilities or [])
    assert httpx.get(f"{served.url}/api/version").json()["version"]  # the Python client has no version()


def test_streamed_chat_replays_real_chunks(served: ReplayServer):
    client = ollama.Client(host=served.url)
    chunks = list(
        client.chat(
            model="llama3.1",
            messages=[{"role": "user", "content": "hello"}],
            options={"num_predict": 20, "temperature": 0.5},
            stream=True,
        )
    )
    assert len(chunks) == 21
    assert "".join(c.message.content for c in chunks).startswith("Hello! How are you today?")
    assert chunks[-1].done_reason == "length" and chunks[-1].eval_count == 20


def test_unmatched_request_is_a_400_with_the_divergence(served: ReplayServer):
    client = ollama.Client(host=served.url)
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="llama3.1", messages=[{"role": "user", "content": "bonjour"}], stream=False)
    assert info.value.status_code == 400
    assert "First difference at $.messages[0].content" in str(info.value)
    assert "\n" not in info.value.error  # one line for the client; the full diff is on the server console
    assert "full diff on the castling serve console" in info.value.error


def test_agent_runs_against_served_scenario_non_streamed_too():
    from castling import Agent, Qwen
    from castling.scenarios.library_tools import weather

    server = ReplayServer(SINGLE, port=0).start()
    try:
        result = Agent(Qwen("qwen3:8b", host=server.url), [weather], strategy="tools", max_steps=6).run(
            "What's the weather in Paris right now?"
        )
        assert result.answer == "It is 18 °C and sunny in Paris right now."
        client = ollama.Client(host=server.url)
        with pytest.raises(ollama.ResponseError, match="only 2 turns were recorded"):
            client.chat(model="qwen3:8b", messages=[], stream=False)
    finally:
        server.stop()


def test_loose_mode_serves_replies_in_order_non_streamed():
    server = ReplayServer(SINGLE, port=0, loose=True).start()
    try:
        client = ollama.Client(host=server.url)
        first = client.chat(model="qwen3:8b", messages=[{"role": "user", "content": "anything"}], stream=False)
        assert first.message.tool_calls and first.message.tool_calls[0].function.name == "weather"
        second = client.chat(model="qwen3:8b", messages=[{"role": "user", "content": "else"}], stream=False)
        assert second.message.content == "It is 18 °C and sunny in Paris right now."
    finally:
        server.stop()


def test_serve_refuses_non_loopback():
    with pytest.raises(ValueError, match="loopback only"):
        ReplayServer(SINGLE, host="0.0.0.0", port=0)


def test_castling_serve_in_a_real_process():
    with serving(LIVE) as process:
        assert process.url.startswith("http://127.0.0.1:")
        assert process.hello().startswith("Hello! How are you today?")


def test_the_next_request_waits_for_the_turn_before_it_to_be_used_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A client has the whole reply before the server marks its turn used; a next request on a new connection
    (another server thread) must be matched against the next turn, not the one being used up."""
    commit = ModelReplay._commit

    def slow_commit(self: ModelReplay, index: int) -> None:
        time.sleep(0.5)  # widens the window between "reply sent" and "turn used" that a fast client can hit
        commit(self, index)

    monkeypatch.setattr(ModelReplay, "_commit", slow_commit)
    server = ReplayServer(dotnet_conversation(tmp_path, *DOTNET[:2]), port=0).start()
    try:
        whole = ollama.Client(host=server.url).chat(
            model="llama3.1", messages=HELLO, options={"num_predict": 10, "temperature": 0.5}
        )
        assert whole.message.content == "Hello! How are you today? Is there something"
        streamed = ollama.Client(host=server.url).chat(model="llama3.1", messages=HELLO, options=OPTIONS, stream=True)
        assert "".join(c.message.content or "" for c in streamed).startswith("Hello! How are you today?")
    finally:
        server.stop()
