"""Schema version 2: a v1 file and its upgrade replay alike, v2 files round-trip byte for byte, the library is small."""

import shutil
from pathlib import Path
from typing import Any

import pytest

from castling.scenarios.format import Scenario
from castling.scenarios.report import compare_text, rows_from_recordings, session_table
from castling.scenarios.runner import RunReport, replay, run_file
from castling.scenarios.store import discover, load, text_of
from castling.scenarios.upgrade import leading_comments, upgrade_file
from tests.scenarios.scenario_helpers import LIBRARY

V1 = Path(__file__).parent / "fixtures" / "v1"
V1_FILES = sorted(V1.glob("*.yaml"))


def _seen(report: RunReport) -> dict[str, Any]:
    """Everything a user sees of one replay: status, outcome, messages and the summary table."""
    return {
        "status": report.status,
        "outcome": report.outcome.model_dump() if report.outcome else None,
        "message": report.message(),
        "table": session_table([report]),
    }


def _v1_copy_and_upgrade(source: Path, folder: Path) -> tuple[Path, Path]:
    old, new = folder / "v1" / source.name, folder / "v2" / source.name
    for target in (old, new):
        target.parent.mkdir(parents=True)
        shutil.copy(source, target)
    result = upgrade_file(new)
    assert result.changed and not result.error and result.new_lines < result.old_lines
    return old, new


def test_there_are_v1_fixtures_of_every_kind():
    names = {p.stem for p in V1_FILES}
    assert {"qwen-no-tool", "qwen-web-fetch", "openai-qwen-code-exec", "llama-plan-weather-parallel"} <= names
    assert any(n.startswith("live-") for n in names) and any(n.startswith("discovery-") for n in names)
    assert all(load(p).schema_version == 1 for p in V1_FILES)


@pytest.mark.parametrize("source", V1_FILES, ids=lambda p: p.stem)
def test_a_v1_file_and_its_upgrade_replay_alike(source: Path, tmp_path: Path):
    old, new = _v1_copy_and_upgrade(source, tmp_path)
    before, after = load(old), load(new)
    assert (before.schema_version, after.schema_version) == (1, 2)
    assert after.model_copy(update={"schema_version": 1}) == before  # the same scenario in memory
    text = new.read_text()
    assert leading_comments(text) + text_of(after) == text  # and the upgrade is what castling writes
    seen_before, seen_after = _seen(run_file(old)), _seen(run_file(new))
    assert seen_before == seen_after
    assert seen_before["status"] in ("passed", "skipped"), seen_before["message"]
    assert compare_text(rows_from_recordings([before])) == compare_text(rows_from_recordings([after]))


def _pirate(scenario: Scenario) -> None:
    scenario.agent.system = "Answer like a pirate."


def _other_tool_output(scenario: Scenario) -> None:
    body = scenario.model_turns[1].request.body
    body["messages"][-1]["content"] = "a tool output the tool does not give"


@pytest.mark.parametrize("change", [_pirate, _other_tool_output], ids=["system-prompt", "tool-output"])
def test_a_diverging_agent_gets_the_same_message_from_v1_and_v2(change: Any, tmp_path: Path):
    path = tmp_path / "web-fetch.yaml"
    shutil.copy(V1 / "qwen-web-fetch.yaml", path)
    messages = []
    for _ in ("v1", "v2"):
        scenario = load(path)
        change(scenario)
        report = replay(scenario, path)
        assert report.status == "diverged"
        messages.append(report.message())
        upgrade_file(path)
    assert load(path).schema_version == 2
    assert messages[0] == messages[1]
    assert "diverged at model turn" in messages[0]


@pytest.mark.parametrize("path", discover([LIBRARY]), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_library_files_are_v2_and_write_back_byte_for_byte(path: Path):
    text = path.read_text(encoding="utf-8")
    scenario = load(path)
    assert scenario.schema_version == 2
    assert leading_comments(text) + text_of(scenario) == text


def test_the_library_is_less_than_half_its_v1_size():
    lines = {p: len(p.read_text().splitlines()) for p in discover([LIBRARY])}
    assert lines[LIBRARY / "qwen" / "no-tool.yaml"] < 90  # 169 in v1
    assert sum(lines.values()) < 20_000  # 40,143 in v1


def test_a_v2_file_writes_only_what_is_set_and_derives_the_rest():
    path = LIBRARY / "qwen" / "no-tool.yaml"
    text = path.read_text()
    for left_out in ("null", "summary:", "fingerprint:", "outcome:", "turn: 0", "interrupted", "redactions"):
        assert left_out not in text
    for one_key in (
        "- answer_contains: Rome\n",
        "- tool_not_called: weather\n",
        "- max_steps: 1\n",
        "- no_error: true\n",
    ):
        assert one_key in text
    scenario = load(path)
    outcome, turn = scenario.outcome, scenario.model_turns[0]
    assert (outcome.final_answer, outcome.steps, outcome.prompt_tokens, outcome.completion_tokens) == (
        "Rome.",
        1,
        20,
        10,
    )
    assert outcome.model_ms == 250.0 and outcome.stop_reason == "answer"
    assert (turn.turn, turn.summary.content, turn.summary.done_reason) == (0, "Rome.", "stop")
    assert turn.request.fingerprint.startswith("sha256:")
    assert turn.request.body["tools"][0]["function"]["name"] == "weather"  # from tool_schemas
