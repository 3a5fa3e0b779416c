"""The eval suite (scenarios/eval/): it loads, its checks tell right answers from wrong ones, and an eval over it
against a scripted server of known behaviour gives the exact expected pass rates."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from scenarios._eval_suite.model import SuiteModel
from scenarios._eval_suite.tasks import LANGUAGES, TASKS, Call, SuiteTask

from castling.cli.main import main
from castling.scenarios.expectations import check_all
from castling.scenarios.format import Outcome, Scenario, ToolCallOutcome
from castling.scenarios.library_tools import make_tool
from castling.scenarios.names import registered_check
from castling.scenarios.serve import TransportServer
from castling.scenarios.store import discover, load
from tests.scenarios.scenario_helpers import LIBRARY

SUITE = LIBRARY / "eval"


def _suite() -> list[tuple[Scenario, SuiteTask, str]]:
    tasks = {t.name: t for t in TASKS}
    found = []
    for path in discover([SUITE]):
        scenario = load(path)
        found.append((scenario, tasks[path.stem], path.parent.name))
    return found


def _outcome(answer: str, calls: tuple[Call, ...]) -> Outcome:
    made = [ToolCallOutcome(name=name, arguments=dict(args)) for name, args in calls]
    return Outcome(final_answer=answer, tool_calls=made, steps=len(calls) + 1)


def test_the_whole_suite_loads_and_names_only_registered_tools_and_checks():
    suite = _suite()
    assert len(suite) == 35
    assert {(task.name, language) for _, task, language in suite} == {
        (t.name, lang) for t in TASKS for lang in LANGUAGES
    }
    for scenario, task, language in suite:
        assert scenario.group == f"{task.name}-{language}" and scenario.recording.source == "constructed"
        assert [make_tool(name).name for name in scenario.agent.tools]  # each resolves by name
        customs = [e.custom for e in scenario.expectations if e.custom]
        assert customs == [f"answer-language:{language}"] and registered_check(customs[0]) is not None


def test_each_task_passes_a_right_answer_and_fails_a_wrong_language_or_translated_argument():
    translated = 0
    for scenario, task, language in _suite():
        right = _outcome(task.answers[language], task.calls)
        assert check_all(scenario.expectations, right) == [], scenario.id

        other = "es" if language == "en" else "en"
        wrong_language = check_all(scenario.expectations, _outcome(task.answers[other], task.calls))
        assert [p for p in wrong_language if p.startswith(f"custom: answer-language:{language} failed")], scenario.id

        local = task.calls_for(language, canonical=False)
        if local != task.calls:  # the user's own name for Tokyo or Japan sent to the tool
            translated += 1
            problems = check_all(scenario.expectations, _outcome(task.answers[language], local))
            assert len(problems) == 1 and problems[0].startswith(("tool_called", "trajectory")), scenario.id
    assert translated == 11  # weather: es zh ja hi ar (Swahili says Tokyo); multi-step: every language but English


def test_a_chinese_answer_to_a_japanese_question_fails_and_says_why():
    scenario = load(SUITE / "ja" / "weather.yaml")
    weather = next(t for t in TASKS if t.name == "weather")
    problems = check_all(scenario.expectations, _outcome(weather.answers["zh"], weather.calls))
    assert problems == [
        "custom: answer-language:ja failed: the answer has no kana, so it is not Japanese (han 91%, latin 9%)"
    ]


@pytest.fixture
def suite_server() -> Iterator[str]:
    running = TransportServer(SuiteModel().transport, port=0).start()
    yield running.url
    running.stop()


def test_an_eval_over_the_suite_gives_the_exact_expected_pass_rates(
    suite_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "eval.json"
    models = ["--model", "right:8b", "--model", "english:8b", "--model", "literal:8b"]
    argv = ["eval", str(SUITE), *models, "-j", "2", "--host", suite_server, "--json", str(out), "--by-folder"]
    assert main(argv) == 0
    document = json.loads(out.read_text())
    overall = {row["model"]: (row["passed"], row["runs"]) for row in document["overall"]}
    assert overall == {"right:8b": (35, 35), "english:8b": (5, 35), "literal:8b": (24, 35)}
    passed = {(row["model"], row["task"]) for row in document["results"] if row["passed"]}
    assert {task for model, task in passed if model == "english:8b"} == {f"{t.name}-en" for t in TASKS}
    failed_literal = {row["task"] for row in document["results"] if row["model"] == "literal:8b" and not row["passed"]}
    assert failed_literal == {f"weather-{lang}" for lang in ("es", "zh", "ja", "hi", "ar")} | {
        f"multi-step-{lang}" for lang in LANGUAGES if lang != "en"
    }
    per_language = {(row["task"], row["model"]): row["passed"] for row in document["by_folder"]}
    assert [per_language[(f"{lang}/*", "english:8b")] for lang in LANGUAGES] == [5, 0, 0, 0, 0, 0, 0]
    assert [per_language[(f"{lang}/*", "literal:8b")] for lang in LANGUAGES] == [5, 3, 4, 3, 3, 3, 3]
    assert {per_language[(f"{lang}/*", "right:8b")] for lang in LANGUAGES} == {5}
    runs = document["runs"]
    fetched = [r for r in runs if r["task"] == "fetch-ja" and r["model"] == "right:8b"]
    assert fetched[0]["passed"] and fetched[0]["tool_calls"] == 1  # the page came from the file's tool_http
    table = capsys.readouterr().out.split("per folder (the eval suite: per language)")[1]
    assert "sw/*" in table and "4/5" in table  # literal: Swahili says Tokyo too, only its multi-step fails
