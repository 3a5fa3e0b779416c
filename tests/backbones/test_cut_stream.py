"""A reply whose stream ends before Ollama's final `done` chunk is an error, never a whole answer (#16)."""

import pytest

from castling import Agent, ModelStreamError
from castling.backbones.qwen import Qwen
from tests.cli.ollama_stub import OllamaStub, text_lines


@pytest.fixture
def stub():
    with OllamaStub(["qwen3:8b"]) as server:
        yield server


@pytest.mark.parametrize("hang_up", [False, True], ids=["body-ends-without-done", "connection-dropped"])
def test_a_cut_stream_raises_with_the_partial_text(stub: OllamaStub, hang_up: bool):
    lines = text_lines("qwen3:8b", ["Half ", "of ", "it"])[:-1]  # every chunk but `done`
    stub.add(lines, break_after=len(lines) if hang_up else None)
    agent = Agent(Qwen("qwen3:8b", host=stub.host, think=False), [])
    with pytest.raises(ModelStreamError, match="ended before the reply") as caught:
        agent.run("Say something long.")
    assert caught.value.partial_text == "Half of it"


@pytest.mark.parametrize("hang_up", [False, True], ids=["body-ends-without-done", "connection-dropped"])
async def test_a_cut_stream_raises_in_async_runs_too(stub: OllamaStub, hang_up: bool):
    lines = text_lines("qwen3:8b", ["Half ", "of ", "it"])[:-1]
    stub.add(lines, break_after=len(lines) if hang_up else None)
    agent = Agent(Qwen("qwen3:8b", host=stub.host, think=False), [])
    with pytest.raises(ModelStreamError, match="ended before the reply") as caught:
        await agent.arun("Say something long.")
    assert caught.value.partial_text == "Half of it"


def test_a_whole_stream_still_answers(stub: OllamaStub):
    stub.add(text_lines("qwen3:8b", ["All ", "of ", "it"]))
    result = Agent(Qwen("qwen3:8b", host=stub.host, think=False), []).run("Say it.")
    assert result.answer == "All of it"
    assert result.usage.completion_tokens == 3
