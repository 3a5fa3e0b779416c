"""The library on the OpenAI wire (scenarios/openai/): every task of each Ollama-wire folder has its twin, and the
twins give the same tool calls (with the same results) and the same answer when replayed."""

from pathlib import Path

import pytest

from castling.scenarios.format import Outcome
from castling.scenarios.runner import run_file
from castling.scenarios.store import discover, load
from tests.scenarios.scenario_helpers import LIBRARY

TWINS = {"qwen": "openai/qwen", "llama": "openai/llama", "llama-plan": "openai/llama-plan"}
"""Each Ollama-wire folder and the folder holding the same tasks, scripts and tools on the OpenAI wire."""


def _tasks(folder: str) -> list[str]:
    """The task files of an Ollama-wire folder (the long conversations that compact are the context guard's)."""
    return [p.name for p in discover([LIBRARY / folder]) if "context" not in load(p).tags]


PAIRS = [(folder, name) for folder in TWINS for name in _tasks(folder)]


def _replayed(path: Path) -> Outcome:
    report = run_file(path)
    assert report.status == "passed", f"{path}: {report.message()}"
    assert report.outcome is not None
    return report.outcome


def test_every_task_is_on_both_wires():
    assert len(PAIRS) == 27  # nine tasks, three folders
    for folder, twin in TWINS.items():
        assert sorted(p.name for p in (LIBRARY / twin).glob("*.yaml")) == sorted(_tasks(folder))


@pytest.mark.parametrize(("folder", "name"), PAIRS, ids=[f"{f}/{n.removesuffix('.yaml')}" for f, n in PAIRS])
def test_parity_the_twins_give_the_same_tool_calls_and_answer(folder: str, name: str):
    ollama_path, openai_path = LIBRARY / folder / name, LIBRARY / TWINS[folder] / name
    ollama, openai = load(ollama_path), load(openai_path)
    assert (ollama.agent.server, openai.agent.server) == ("ollama", "openai")
    assert {t.request.path for t in openai.model_turns} == {"/v1/chat/completions"}
    assert (ollama.task, ollama.agent.tools, ollama.agent.strategy, ollama.agent.backbone) == (
        openai.task,
        openai.agent.tools,
        openai.agent.strategy,
        openai.agent.backbone,
    )
    on_ollama, on_openai = _replayed(ollama_path), _replayed(openai_path)
    calls = [(c.name, c.arguments, c.result, c.error) for c in on_ollama.tool_calls]
    assert calls == [(c.name, c.arguments, c.result, c.error) for c in on_openai.tool_calls]
    assert on_ollama.final_answer == on_openai.final_answer != ""
    assert (on_ollama.steps, on_ollama.stop_reason) == (on_openai.steps, on_openai.stop_reason)
    assert len(ollama.model_turns) == len(openai.model_turns)  # the same model calls, one for one
