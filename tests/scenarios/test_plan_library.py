"""The library's plan-strategy scenarios (scenarios/llama-plan/): what they ask, and how compare lines them up."""

import json
from pathlib import Path

import pytest

from castling.cli.main import main
from castling.scenarios.runner import run_file
from castling.scenarios.store import discover, load
from tests.scenarios.scenario_helpers import LIBRARY

PLAN = LIBRARY / "llama-plan"


def test_every_library_task_has_a_plan_version_with_the_same_task_id():
    # The long conversations that compact (tag `context`) are built for the tools strategy only.
    tools = {s.group for p in discover([LIBRARY / "qwen"]) if "context" not in (s := load(p)).tags}
    plan = [load(p) for p in discover([PLAN])]
    assert {s.group for s in plan} == tools and len(tools) == 9
    assert {(s.agent.backbone, s.agent.model, s.agent.strategy) for s in plan} == {("llama", "llama3.1:8b", "plan")}


def test_plan_requests_send_a_format_schema_and_no_tools():
    for path in discover([PLAN]):
        for turn in load(path).model_turns:
            body = turn.request.body
            schema = body["format"]
            # The executor's action is one branch per tool (anyOf); the other requests are plain objects.
            assert schema.get("type") == "object" or "anyOf" in schema, (path.name, turn.turn)
            assert not body.get("tools"), (path.name, turn.turn)


def test_no_tool_task_is_one_planner_call_with_an_empty_plan():
    scenario = load(PLAN / "no-tool.yaml")
    (turn,) = scenario.model_turns
    assert json.loads(turn.summary.content) == {"steps": [], "answer": "Rome."}
    assert scenario.outcome.tool_calls == [] and scenario.outcome.final_answer == "Rome."


def test_two_cities_are_two_plan_steps():
    scenario = load(PLAN / "weather-parallel.yaml")
    planned = json.loads(scenario.model_turns[0].summary.content)["steps"]
    assert [s["tool"] for s in planned] == ["weather", "weather"]
    assert [c.arguments for c in scenario.outcome.tool_calls] == [{"city": "Paris"}, {"city": "Lyon"}]


def test_recovered_failure_replans_an_unknown_tool_and_retries_a_cut_reply():
    scenario = load(PLAN / "malformed-recovered.yaml")
    user_notes = [t.request.body["messages"][-1]["content"] for t in scenario.model_turns]
    assert "do not exist: get_weather" in user_notes[1] and "The available tools are: weather" in user_notes[1]
    assert scenario.model_turns[2].summary.done_reason == "length"
    assert "num_predict" in user_notes[3]
    report = run_file(PLAN / "malformed-recovered.yaml")
    assert report.status == "passed" and report.outcome is not None
    assert report.outcome.final_answer == "It is 12 °C and rainy in Berlin."


def test_compare_shows_qwen_tools_and_llama_plan_for_the_same_tasks(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    report = tmp_path / "compare.html"
    assert main(["compare", str(LIBRARY / "qwen"), str(PLAN), "--html", str(report)]) == 0
    out = capsys.readouterr().out
    qwen, plan = out.split("qwen · qwen3:8b · strategy=tools")[1], out.split("llama · llama3.1:8b · strategy=plan")[1]
    plan = plan.split("qwen · qwen3:8b")[0]
    assert "TOTAL                9/9" in plan and "TOTAL                10/10" in qwen  # + long-conversation
    multi = next(line for line in plan.splitlines() if line.startswith("multi-step"))
    assert multi.split()[1:4] == ["✔", "7", "3"]  # planner + (executor, re-planner) × 3; three tool calls
    html = report.read_text()
    assert "10 tasks × 2 configurations" in html  # one row per task id; long-conversation has no plan version


def test_a_changed_plan_prompt_is_absorbed_by_update_mode(library: Path, monkeypatch: pytest.MonkeyPatch):
    """A request-side change of the plan strategy (here: the executor prompt) re-records from the file's replies."""
    from castling.agents.plan import prompts as plan_prompts

    path = library / "llama-plan" / "weather-parallel.yaml"
    monkeypatch.setattr(plan_prompts, "EXECUTOR", plan_prompts.EXECUTOR.replace("ONE step", "exactly one step"))
    assert run_file(path, "replay").status == "diverged"
    report = run_file(path, "update")
    assert report.status == "passed" and report.saved, report.message()
    fresh = load(path)
    executor_system = fresh.model_turns[1].request.body["messages"][0]["content"]
    assert "exactly one step" in executor_system and fresh.recording.source == "constructed"
    assert run_file(path, "replay").status == "passed"
