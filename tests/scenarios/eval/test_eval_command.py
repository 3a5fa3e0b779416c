"""`castling eval` through the command line against a loopback server whose per-model behaviour is known."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from castling.cli.main import main
from castling.scenarios.format import Expectation
from castling.scenarios.runner import run_file
from castling.scenarios.serve import TransportServer
from castling.scenarios.store import load, save
from tests.scenarios.eval.behaviours import SLOW, Behaviours
from tests.scenarios.scenario_helpers import LIBRARY

TASKS = [str(LIBRARY / "qwen" / "no-tool.yaml"), str(LIBRARY / "qwen" / "weather-single.yaml")]


@pytest.fixture
def server() -> Iterator[tuple[Behaviours, str]]:
    behaviours = Behaviours()
    running = TransportServer(behaviours.transport, port=0).start()
    yield behaviours, running.url
    running.stop()


def _row(rows: list[dict], task: str, model: str) -> dict:
    return next(r for r in rows if r["task"] == task and r["model"] == model)


def test_pass_rates_intervals_tokens_and_errors_per_model(
    server: tuple[Behaviours, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    behaviours, host = server
    out, page = tmp_path / "eval.json", tmp_path / "eval.html"
    models = [a for m in ("right:1b", "half:1b", "slow:1b", "broken:1b") for a in ("--model", m)]
    argv = ["eval", *TASKS, *models, "--repeats", "4", "-j", "3", "--host", host, "--json", str(out)]
    assert main([*argv, "--html", str(page)]) == 1  # the broken model's runs failed before an answer
    document = json.loads(out.read_text())
    rows = document["results"]
    assert len(rows) == 8 and set(rows[0]) >= {
        *("task", "model", "backbone", "strategy", "runs", "passed", "pass_rate", "ci95", "tokens", "latency_s"),
    }
    right = _row(rows, "weather-single", "right:1b")
    assert (right["runs"], right["passed"], right["pass_rate"], right["ci95"]) == (4, 4, 1.0, [0.51, 1.0])
    assert right["tokens"] == {"prompt": 160, "completion": 80, "per_run": 60.0}  # two model calls a run
    assert (right["tool_calls"], right["steps"], right["backbone"], right["strategy"]) == (4, 8, "qwen", "tools")
    for task in ("no-tool", "weather-single"):
        half = _row(rows, task, "half:1b")
        assert (half["passed"], half["pass_rate"], half["ci95"], half["failed"]) == (2, 0.5, [0.15, 0.85], 2)
        broken = _row(rows, task, "broken:1b")
        assert (broken["passed"], broken["ci95"], broken["errors"]) == (0, [0.0, 0.49], {"ServerResponseError": 4})
        assert broken["tokens"] == {"prompt": 0, "completion": 0, "per_run": 0.0}
    slow = _row(rows, "no-tool", "slow:1b")
    assert slow["passed"] == 4 and slow["latency_s"]["p50"] >= SLOW  # a lower bound: the server slept that long
    overall = {r["model"]: r for r in document["overall"]}
    assert overall["half:1b"]["task"] == "*" and overall["half:1b"]["runs"] == 8
    assert (overall["half:1b"]["passed"], overall["half:1b"]["ci95"]) == (4, [0.215, 0.785])
    assert len(document["runs"]) == 32 and behaviours.chats.count("broken:1b") == 8

    captured = capsys.readouterr()
    assert captured.err.count("] ") >= 32 and "32/32" in captured.err
    assert "8 of 32 runs failed before an answer" in captured.err
    table = [line.split("  ") for line in captured.out.splitlines()]
    half_all = next(
        " ".join(c.strip() for c in line if c.strip()) for line in table if "ALL" in line[0] and "half" in "".join(line)
    )
    assert "4/8 50% 0.21–0.79 37.5" in half_all


def test_html_report_is_self_contained_with_whiskers_per_configuration(server: tuple[Behaviours, str], tmp_path: Path):
    _, host = server
    page = tmp_path / "eval.html"
    argv = ["eval", TASKS[0], "--model", "right:1b", "--model", "half:1b", "--repeats", "2", "--host", host]
    assert main([*argv, "--html", str(page)]) == 0
    html = page.read_text()
    assert not re.search(r"(src|href|xmlns)\s*=|<script|<link|@import|url\(", html)
    assert html.count("class='whisker'") == 2 and html.count("class='point'") == 2
    assert "right:1b · qwen · tools" in html and "<td>1/2</td>" in html and "<td>0.10–0.91</td>" in html


def test_recorded_runs_replay_offline_and_a_failure_says_why(server: tuple[Behaviours, str], tmp_path: Path):
    _, host = server
    record = tmp_path / "runs"
    argv = ["eval", TASKS[0], "--model", "half:1b", "--repeats", "2", "--host", host, "--record", str(record)]
    assert main(argv) == 0
    folder = record / "half-1b-qwen-tools"
    assert sorted(p.name for p in folder.iterdir()) == ["no-tool-1.yaml", "no-tool-2.yaml"]
    first, second = run_file(folder / "no-tool-1.yaml"), run_file(folder / "no-tool-2.yaml")
    assert first.status == "passed" and first.scenario is not None and first.scenario.recording.source == "live"
    assert (
        second.status == "failed"
        and "expected contains 'Rome'; the answer was 'I think it is Milan.'" in (second.problems[0])
    )
    assert (record / "eval-journal.jsonl").read_text().count("\n") == 2


def test_unknown_paths_and_missing_models_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["eval", str(tmp_path), "--model", "right:1b"]) == 2
    assert "no agent scenarios found under" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["eval", TASKS[0]])  # --model is required
    assert "--model" in capsys.readouterr().err


def test_a_trajectory_expectation_decides_runs_in_an_eval(server: tuple[Behaviours, str], tmp_path: Path):
    _, host = server
    scenario = load(TASKS[1])
    trajectory = Expectation(trajectory={"calls": [{"name": "weather", "args": {"city": "Paris"}}], "mode": "strict"})
    save(scenario.model_copy(update={"expectations": [trajectory]}), tmp_path / "weather.yaml")
    out = tmp_path / "eval.json"
    argv = ["eval", str(tmp_path / "weather.yaml"), "--model", "half:1b", "--repeats", "2", "--host", host]
    assert main([*argv, "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert (document["results"][0]["passed"], document["results"][0]["failed"]) == (1, 1)
    wrong = next(r for r in document["runs"] if not r["passed"])
    assert wrong["problems"] == [
        "trajectory (strict, args exact): 0 call(s) where 1 were expected; expected weather({'city': 'Paris'}); "
        "the run made no tool calls"
    ]


def test_compare_is_the_offline_view_of_saved_eval_results(
    server: tuple[Behaviours, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    _, host = server
    out, page = tmp_path / "eval.json", tmp_path / "again.html"
    argv = ["eval", TASKS[0], "--model", "right:1b", "--model", "half:1b", "--repeats", "2", "--host", host]
    assert main([*argv, "--json", str(out)]) == 0
    table = capsys.readouterr().out.split("\n\nJSON:")[0]
    assert main(["compare", str(out), "--html", str(page)]) == 0
    assert capsys.readouterr().out.startswith(table)  # the same table, read back without a model
    assert page.read_text().count("class='whisker'") == 2


def test_compare_says_what_to_do_with_a_json_that_is_not_eval_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    assert main(["compare", str(other)]) == 2
    assert "is not a castling eval --json file (KeyError: 'results'); write one with castling eval" in (
        capsys.readouterr().err
    )
    assert main(["compare", str(other), TASKS[0]]) == 2
    assert "either scenario files/folders or eval --json results, not both" in capsys.readouterr().err
