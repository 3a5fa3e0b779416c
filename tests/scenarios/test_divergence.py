from pathlib import Path

import pytest
import yaml

from castling.scenarios.runner import run_file
from tests.scenarios.scenario_helpers import recorded_weather


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@pytest.fixture
def weather(tmp_path: Path) -> Path:
    return recorded_weather(tmp_path / "weather.yaml")


def test_faithful_replay_passes(weather: Path):
    report = run_file(weather)
    assert report.status == "passed", report.message()
    assert report.outcome is not None and report.outcome.final_answer == "It is 18 °C and sunny in Paris."


def test_system_prompt_change(weather: Path):
    edit(weather, lambda d: d["agent"].update(system="Answer like a pirate."))
    report = run_file(weather)
    text = report.message()
    assert report.status == "diverged" and report.divergence is not None
    assert report.divergence.kind == "model-turn"
    assert "diverged at model turn 0 of 2" in text
    assert "First difference at $.messages[0].role" in text
    assert 'recorded: "user"' in text and 'this run: "system"' in text
    assert "Likely cause: a system prompt was added or removed." in text
    assert "constructed traffic: re-recorded from its own replies, no Ollama needed" in text
    assert f"pytest {weather} --scenario-mode=update" in text


def test_changed_system_prompt_text_is_named(tmp_path: Path):
    path = recorded_weather(tmp_path / "w.yaml", system="Be brief.")
    edit(path, lambda d: d["agent"].update(system="Be thorough."))
    text = run_file(path).message()
    assert "First difference at $.messages[0].content  (role=system)" in text
    assert 'recorded: "Be brief."' in text and 'this run: "Be thorough."' in text
    assert "Likely cause: the system prompt changed." in text
    assert '-  "content": "Be brief.",' in text and '+  "content": "Be thorough.",' in text


def test_tool_output_change(weather: Path):
    def change(d):
        d["model_turns"][1]["request"]["body"]["messages"][2]["content"] = "Paris: 30 °C, stormy"

    edit(weather, change)
    report = run_file(weather)
    text = report.message()
    assert "diverged at model turn 1 of 2" in text
    assert "$.messages[2].content  (role=tool, tool=weather)" in text
    assert 'recorded: "Paris: 30 °C, stormy"' in text and 'this run: "Paris: 18 °C, sunny"' in text
    assert "Likely cause: the output of the weather tool changed" in text


def test_tool_schema_change(weather: Path):
    def change(d):
        d["tool_schemas"][0]["function"]["description"] = "Old description."  # shared by every turn

    edit(weather, change)
    text = run_file(weather).message()
    assert "$.tools[0].function.description" in text
    assert "Likely cause: a tool's schema" in text
    assert 'ignore_paths: ["$.tools[*].function.description"]' in text


def test_options_change(weather: Path):
    edit(weather, lambda d: d["agent"].update(num_ctx=4096))
    text = run_file(weather).message()
    assert "$.options.num_ctx" in text and "recorded: 32768" in text and "this run: 4096" in text
    assert "Likely cause: the model options changed" in text


def test_ignore_paths_accepts_the_difference(weather: Path):
    edit(
        weather,
        lambda d: (
            d["agent"].update(num_ctx=4096),
            d.setdefault("matching", {}).update(ignore_paths=["$.options.num_ctx"]),
        ),
    )
    assert run_file(weather).status == "passed"


def test_extra_model_call(weather: Path):
    edit(weather, lambda d: d["model_turns"].pop())
    report = run_file(weather)
    assert report.status == "diverged" and report.divergence is not None
    assert report.divergence.kind == "extra-model-call"
    assert "made model call #2 but only 1 turns were recorded" in report.message()


def test_unused_recordings(weather: Path):
    def add_turn(d):
        extra = dict(d["model_turns"][1])
        extra["turn"] = 2
        d["model_turns"].append(extra)

    edit(weather, add_turn)
    report = run_file(weather)
    assert report.status == "diverged" and report.divergence is not None
    assert report.divergence.kind == "unused"
    assert "1 recorded exchange(s) were never requested: model turn 2" in report.message()


def test_unused_recordings_can_warn(weather: Path):
    def add_turn(d):
        d["model_turns"].append(dict(d["model_turns"][1], turn=2))
        d.setdefault("matching", {})["unused_recordings"] = "warn"

    edit(weather, add_turn)
    assert run_file(weather).status == "passed"


def test_expectation_failure_is_not_a_divergence(weather: Path):
    edit(
        weather,
        lambda d: d.update(
            expectations=[{"final_answer": {"contains": "snow"}}, {"tool_not_called": {"name": "weather"}}]
        ),
    )
    report = run_file(weather)
    assert report.status == "failed" and report.divergence is None
    assert (
        "final_answer: expected contains 'snow'; the answer was 'It is 18 °C and sunny in Paris.'" in report.message()
    )
    assert "tool_not_called: weather was called 1 time(s)" in report.message()


def test_unrecorded_tool_http(library: Path):
    path = library / "qwen" / "web-title.yaml"
    edit(path, lambda d: d["tool_http"][0]["request"].update(url="https://example.com/other"))
    report = run_file(path)
    assert report.status == "diverged" and report.divergence is not None
    assert report.divergence.kind == "unrecorded-http"
    text = report.message()
    assert "GET https://example.org/" in text and "closest recorded request: GET https://example.com/other" in text


def test_client_version_drift_is_noted(weather: Path):
    import importlib.metadata

    def change(d):
        d["recording"]["client_versions"]["ollama"] = "0.0.1"
        d["agent"]["num_ctx"] = 2048

    edit(weather, change)
    text = run_file(weather).message()
    assert f"client versions changed since recording: ollama 0.0.1 → {importlib.metadata.version('ollama')}" in text


def test_system_prompt_can_be_left_out_of_matching(tmp_path: Path):
    path = recorded_weather(tmp_path / "w.yaml", system="Be brief.")
    edit(
        path,
        lambda d: (
            d["agent"].update(system="Be thorough."),
            d.setdefault("matching", {}).update(system_prompt="ignore"),
        ),
    )
    assert run_file(path).status == "passed"
