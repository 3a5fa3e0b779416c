"""A real /api/tags listing (fixture 06, from llama-stack's recordings) as scenario discovery.

The listing holds what a real Ollama had installed: embedding models, a vision model that ranks first by
size but has no tool support, a guard model and plain llama3.2 sizes. The REPL's default-model choice reads it.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest
import yaml

from castling.cli.models import rank
from castling.scenarios.live import ScriptedFromScenario
from castling.scenarios.runner import run_file
from castling.scenarios.serve import ReplayServer
from castling.scenarios.store import load
from tests.cli.chatdriver import Chat
from tests.scenarios.scenario_helpers import LIBRARY

TAGS = LIBRARY / "discovery" / "llamastack-tags-default-model.yaml"
REAL_MODELS = [
    "nomic-embed-text:latest",
    "llama3.2-vision:11b",
    "llama3.2-vision:latest",
    "llama-guard3:1b",
    "all-minilm:l6-v2",
    "llama3.2:1b",
    "all-minilm:latest",
    "llama3.2:3b",
    "llama3.2:3b-instruct-fp16",
]


@pytest.fixture
def served() -> Iterator[ReplayServer]:
    server = ReplayServer(TAGS, port=0).start()
    yield server
    server.stop()


def test_the_file_says_which_parts_are_real():
    scenario = load(TAGS)
    assert "REAL traffic" in scenario.recording.provenance and "llama-stack" in scenario.recording.provenance
    assert "constructed" in scenario.recording.provenance and scenario.recording.source == "constructed"
    assert scenario.recording.model_digest == "sha256:a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"


def test_replay_server_serves_the_real_listing(served: ReplayServer):
    listing = ollama.Client(host=served.url).list()
    assert [m.model for m in listing.models] == REAL_MODELS
    vision = listing.models[1]
    assert vision.details is not None and vision.details.family == "mllama"
    assert vision.details.parameter_size == "10.7B" and vision.size == 7816589186
    assert str(vision.modified_at.isoformat()).startswith("2025-07-30T18:45:02")


class Logged(httpx.AsyncBaseTransport):
    """Logs the REPL's requests (path and model) on the way to the scenario's own replies."""

    def __init__(self, inner: httpx.MockTransport) -> None:
        self.inner = inner
        self.asked: list[tuple[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = yaml.safe_load(request.content) if request.content else {}
        self.asked.append((request.url.path, (body or {}).get("model")))
        return await self.inner.handle_async_request(request)


async def test_repl_default_model_from_the_real_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CASTLING_DATA_DIR", str(tmp_path / "data"))
    transport = Logged(ScriptedFromScenario(load(TAGS)).model_transport())  # type: ignore[arg-type]
    server = type("Served", (), {"transport": transport})()
    chat = Chat(server, strategy="tools")  # the file holds one reply; the plan strategy would ask for two
    await chat.run("hi\r", "/exit\r")
    assert (
        "castling chat · llama3.2:3b · strategy tools" in chat.text and "Hello! How can I help you today?" in chat.text
    )
    shows = [model for path, model in transport.asked if path == "/api/show"]
    # The vision model ranks first (newest family, most parameters) but lists no tools: it is skipped.
    assert sorted(REAL_MODELS, key=rank)[0] == "llama3.2-vision:11b"
    assert shows[:2] == ["llama3.2-vision:11b", "llama3.2:3b"]
    assert ("/api/chat", "llama3.2:3b") in transport.asked


def test_re_recording_keeps_the_real_discovery(tmp_path: Path):
    path = tmp_path / "scenarios" / TAGS.name
    path.parent.mkdir()
    data = yaml.safe_load(TAGS.read_text())
    data["agent"]["system"] = "Be terse."  # diverges, so update re-records (from its own constructed reply)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    report = run_file(path, "update")
    assert report.status == "passed" and "re-recorded" in report.note
    fresh = load(path)
    assert fresh.model_turns[0].request.body["messages"][0]["content"] == "Be terse."
    tags = next(e for e in fresh.server if e.path == "/api/tags")
    assert [m["model"] for m in tags.body["models"]] == REAL_MODELS
    assert len([e for e in fresh.server if e.path == "/api/show"]) == len(REAL_MODELS)
