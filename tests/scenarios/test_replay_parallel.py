"""`castling replay -j N`: files replayed in worker processes, reported in file order, divergences intact."""

import shutil
import subprocess
import sys
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


WORKER_PROBE = """
import sys
from pathlib import Path
from castling.scenarios import parallel

def probe(path, mode, host, repeat):
    report = real(path, mode, host, repeat)
    report.note = "agent stack inherited" if inherited else "agent stack imported by the worker"
    return report

inherited = False
real = parallel._replay_light

def remember():  # runs in each forked worker before its first file
    global inherited
    inherited = "castling.agents.agent" in sys.modules and "langgraph.graph" in sys.modules

parallel._replay_light = probe
parallel._allow = lambda tools, checks: remember()
reports = parallel.replay_many([Path(sys.argv[1])] * 2, "replay", jobs=2)
print(sorted({r.status + ": " + r.note for r in reports}))
"""


def test_workers_start_with_the_agent_stack_the_parent_imported_once():
    # Each worker used to import langgraph and the backbones again before its first file (~0.3 s of CPU warm,
    # 1.5 s cold, per worker): forked after the parent imported them, they inherit them.
    done = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE, str(LIBRARY / "qwen" / "no-tool.yaml")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "['passed: agent stack inherited']"
