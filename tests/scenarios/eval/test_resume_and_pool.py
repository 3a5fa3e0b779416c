"""An eval killed with SIGKILL resumes without redoing finished runs; `-j 4` spreads over a pool of two hosts."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from castling.cli.main import main
from castling.scenarios.serve import TransportServer
from tests.cli.ollama_stub import OllamaStub, text_lines
from tests.scenarios.eval.behaviours import Behaviours
from tests.scenarios.scenario_helpers import LIBRARY

NO_TOOL = str(LIBRARY / "qwen" / "no-tool.yaml")
REPEATS = 6


@pytest.fixture
def server() -> Iterator[tuple[Behaviours, str]]:
    behaviours = Behaviours()
    running = TransportServer(behaviours.transport, port=0).start()
    yield behaviours, running.url
    running.stop()


def _wait_for_lines(path: Path, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120  # a generous bound on a loaded machine, not an assertion on speed
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and path.read_text().count("\n") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"the eval never journaled {count} runs (exit {process.poll()})")


def test_an_eval_killed_mid_run_resumes_without_redoing_finished_runs(
    server: tuple[Behaviours, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    behaviours, host = server
    out = tmp_path / "eval.json"
    argv = ["eval", NO_TOOL, "--model", "slow:1b", "--repeats", str(REPEATS), "--host", host, "--json", str(out)]
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    process = subprocess.Popen([sys.executable, "-m", "castling", *argv], env=env, stderr=subprocess.DEVNULL)
    journal = Path(f"{out}.journal.jsonl")
    try:
        _wait_for_lines(journal, 2, process)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL and not out.exists()
    finished = journal.read_text().count("\n")
    assert 2 <= finished < REPEATS
    before = len(behaviours.chats)

    assert main(argv) == 0
    assert len(behaviours.chats) - before == REPEATS - finished  # only the runs not journaled ran again
    assert f"resuming: {finished} of {REPEATS} runs already done" in capsys.readouterr().err
    document = json.loads(out.read_text())
    assert [(r["runs"], r["passed"]) for r in document["results"]] == [(REPEATS, REPEATS)]
    assert sorted(r["repeat"] for r in document["runs"]) == list(range(1, REPEATS + 1))

    assert main([*argv, "--fresh"]) == 0  # --fresh starts over
    assert len(behaviours.chats) - before == 2 * REPEATS - finished


def test_a_torn_last_journal_line_is_run_again(server: tuple[Behaviours, str], tmp_path: Path):
    behaviours, host = server
    out = tmp_path / "eval.json"
    argv = ["eval", NO_TOOL, "--model", "right:1b", "--repeats", "2", "--host", host, "--json", str(out)]
    assert main(argv) == 0
    journal = Path(f"{out}.journal.jsonl")
    lines = journal.read_text().splitlines()
    journal.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])  # a kill in the middle of a write
    assert main(argv) == 0
    assert len(behaviours.chats) == 3
    assert json.loads(out.read_text())["results"][0]["passed"] == 2


def test_four_runs_at_once_spread_over_a_pool_of_two_hosts(tmp_path: Path):
    with OllamaStub(["qwen3:8b"]) as first, OllamaStub(["qwen3:8b"]) as second:
        for stub in (first, second):
            for _ in range(8):
                stub.add(text_lines("qwen3:8b", ["The ", "capital ", "is ", "Rome."]), delay=0.05)
        out = tmp_path / "eval.json"
        hosts = ["--host", f"http://{first.host}", "--host", f"http://{second.host}"]
        argv = ["eval", NO_TOOL, "--model", "qwen3:8b", "--repeats", "8", "-j", "4", *hosts, "--json", str(out)]
        assert main(argv) == 0
    assert len(first.requests) + len(second.requests) == 8
    assert first.requests and second.requests  # both hosts served runs
    assert first.peak <= 2 and second.peak <= 2  # four at once, at most two per host
    runs = json.loads(out.read_text())["runs"]
    assert {r["host"] for r in runs} == {f"http://{first.host}", f"http://{second.host}"}
    assert json.loads(out.read_text())["results"][0]["passed"] == 8


def test_runs_of_a_scenario_edited_since_are_done_again(server: tuple[Behaviours, str], tmp_path: Path):
    behaviours, host = server
    task = tmp_path / "no-tool.yaml"
    task.write_text(Path(NO_TOOL).read_text())
    out = tmp_path / "eval.json"
    argv = ["eval", str(task), "--model", "right:1b", "--repeats", "2", "--host", host, "--json", str(out)]
    assert main(argv) == 0 and main(argv) == 0
    assert len(behaviours.chats) == 2  # the second command resumed everything
    task.write_text(task.read_text().replace("contains: Rome", "contains: Italy"))
    assert main(argv) == 0
    assert len(behaviours.chats) == 4  # new expectations: both runs again
    assert json.loads(out.read_text())["results"][0]["runs"] == 2
