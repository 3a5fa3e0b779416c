"""`castling replay -j N`: files replayed in worker processes, reported in file order, divergences intact."""

import shutil
from pathlib import Path

import pytest

from castling.cli.main import main
from tests.scenarios.scenario_helpers import LIBRARY


def test_replay_in_two_processes_reports_each_file_with_its_divergence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    for name in ("no-tool", "weather-single", "multi-step"):
        shutil.copy(LIBRARY / "qwen" / f"{name}.yaml", tmp_path / f"{name}.yaml")
    changed = tmp_path / "no-tool.yaml"
    changed.write_text(
        changed.read_text().replace("Answer in one word.", "Answer in two words.", 1)
    )  # the task, not the recording

    assert main(["replay", str(tmp_path), "-j", "2"]) == 1
    captured = capsys.readouterr()
    rows = [line.split()[:3] for line in captured.out.splitlines() if line.startswith("qwen-")]
    assert rows == [
        ["qwen-multi-step", "qwen3:8b", "✔"],
        ["qwen-no-tool", "qwen3:8b", "✘"],
        ["qwen-weather-single", "qwen3:8b", "✔"],
    ]
    assert "✘ DIV" in captured.out and "2 of 3 scenarios ok" in captured.out
    assert "scenario 'qwen-no-tool' diverged at model turn 0" in captured.err
    assert "Likely cause: the task or a user message changed" in captured.err
