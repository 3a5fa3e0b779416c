"""MCP traffic in scenarios: recorded against the real SDK test server, replayed without starting it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from castling import Agent, Qwen
from castling.errors import ConfigError
from castling.scenarios import mcp_traffic
from castling.scenarios.errors import UnrecordedMcpCall, UnusedRecordings
from castling.scenarios.format import AgentConfig, Recording, Scenario
from castling.scenarios.live import ServerLive
from castling.scenarios.runner import record, run_file
from castling.scenarios.session import ScenarioSession
from castling.scenarios.store import load
from castling.testing import ScriptedOllama
from castling.tools import mcp

COUNTER = [sys.executable, str(Path(__file__).parents[1] / "tools" / "mcp" / "counter_server.py")]
COUNTER_TOOLS = {"bump", "pid", "slow", "crash", "fail", "area", "grow", "steps"}
NEVER_STARTED = ["/nonexistent/castling-mcp-server-that-must-not-start"]


def _scripted() -> ScriptedOllama:
    model = ScriptedOllama("qwen3:8b")
    model.add_reply(tool_calls=[("bump", {"by": "10"})])  # coerced to 10 before the call
    model.add_reply(tool_calls=[("area", {"box": {"corner": {"x": 1, "y": 2}, "size": {"x": 3, "y": 4}}})])
    model.add_reply(tool_calls=[("fail", {"reason": "no such box"})])
    model.add_reply("The counter is at 10 and the area is 12.")
    return model


def _record(path: Path) -> None:
    model = _scripted()
    with ScenarioSession(path, "record", live=ServerLive(model.transport), task="bump and measure") as s:
        with Agent(Qwen("qwen3:8b"), tools=[mcp(COUNTER, name="counter", deny=["crash"])]) as agent:
            s.result = agent.run(s.task)


def _replay(path: Path, server: object | None = None) -> object:
    server = server or mcp(NEVER_STARTED, name="counter", deny=["crash"])
    with ScenarioSession(path, "replay") as s:
        with Agent(Qwen("qwen3:8b"), tools=[server]) as agent:
            return agent.run(s.task)


def test_mcp_tool_list_and_calls_are_recorded_and_replay_without_the_server(tmp_path: Path):
    path = tmp_path / "counter.yaml"
    _record(path)
    traffic = load(path).mcp
    assert [t.name for t in traffic] == ["counter"]
    assert {tool["name"] for tool in traffic[0].tools} == COUNTER_TOOLS
    calls = traffic[0].calls
    assert [(c.tool, c.arguments) for c in calls][:1] == [("bump", {"by": 10})]
    assert calls[0].result is not None
    assert calls[0].result["content"] == [{"type": "text", "text": "count=10"}] and not calls[0].result["isError"]
    assert calls[2].result is not None and calls[2].result["isError"] is True

    recorded = load(path).outcome.tool_calls  # what the real server answered
    result = _replay(path)  # the command does not exist: only the recording can answer
    assert [(c.name, c.result) for c in result.tool_calls] == [(c.name, c.result) for c in recorded]
    assert result.tool_calls[0].result == "count=10" and '"area": 12' in (result.tool_calls[1].result or "")
    assert "no such box" in (result.tool_calls[2].error or "")
    assert result.answer == "The counter is at 10 and the area is 12."


def test_a_call_with_other_arguments_diverges_naming_the_call_the_argument_and_the_remedy(tmp_path: Path):
    path = tmp_path / "counter.yaml"
    _record(path)
    data = yaml.safe_load(path.read_text())
    data["mcp"][0]["calls"][0]["arguments"] = {"by": 7}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(UnrecordedMcpCall) as caught:
        _replay(path)
    message = str(caught.value)
    assert "MCP call #1 to server 'counter' is not recorded" in message
    assert 'bump({"by": 10})' in message
    assert "first difference at arguments.by" in message
    assert "recorded: 7" in message and "this run: 10" in message
    assert f"pytest {path} --scenario-mode=update" in message


def test_a_server_the_recording_lacks_is_a_divergence_and_is_never_started(tmp_path: Path):
    path = tmp_path / "counter.yaml"
    _record(path)
    with pytest.raises(UnrecordedMcpCall) as caught:
        _replay(path, mcp(NEVER_STARTED, name="files"))
    assert "opened the MCP server 'files', which the recording does not have" in str(caught.value)
    assert "recorded MCP servers: 'counter'" in str(caught.value)


def test_recorded_calls_never_made_fail_the_replay(tmp_path: Path):
    path = tmp_path / "counter.yaml"
    _record(path)
    data = yaml.safe_load(path.read_text())
    data["mcp"][0]["calls"].append({"id": "m9", "tool": "pid", "arguments": {}, "result": {"content": []}})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(UnusedRecordings, match=r"MCP call m9 \(counter: pid\)"):
        _replay(path)


def test_a_scenario_file_naming_a_server_records_with_the_registered_one_and_replays_without_it(tmp_path: Path):
    scenario = Scenario(
        id="counter-file",
        task="bump it",
        agent=AgentConfig(model="qwen3:8b", mcp=["counter"]),
        recording=Recording(source="constructed"),
    )
    path = tmp_path / "counter-file.yaml"
    model = ScriptedOllama("qwen3:8b")
    model.add_reply(tool_calls=[("bump", {"by": 2})])
    model.add_reply("It is 2.")
    mcp_traffic.register_mcp("counter", mcp(COUNTER, allow=["bump"]))
    try:
        assert record(scenario, path, ServerLive(model.transport)).saved
    finally:
        mcp_traffic._REGISTERED.clear()
    saved = load(path)
    assert saved.mcp[0].name == "counter" and saved.mcp[0].allow == ["bump"]
    assert [tool["function"]["name"] for tool in model.requests[0]["tools"]] == ["bump"]

    report = run_file(path)  # nothing registered now: the file alone must replay, and start nothing
    assert report.status == "passed", report.message()
    assert report.outcome is not None and report.outcome.tool_calls[0].result == "count=2"


def test_recording_a_file_that_names_an_unregistered_server_says_how_to_register_it(tmp_path: Path):
    scenario = Scenario(
        id="unregistered", task="t", agent=AgentConfig(mcp=["files"]), recording=Recording(source="constructed")
    )
    with pytest.raises(ConfigError, match=r"register_mcp\('files', mcp\('COMMAND', name='files'\)\)"):
        record(scenario, tmp_path / "u.yaml", ServerLive(ScriptedOllama("qwen3:8b").transport))
    assert not (tmp_path / "u.yaml").exists()


def test_a_tool_list_that_changed_during_the_recording_changes_at_the_same_point_in_replay(tmp_path: Path):
    path = tmp_path / "grow.yaml"
    model = ScriptedOllama("qwen3:8b")
    model.add_reply(tool_calls=[("grow", {"name": "shout"})])
    model.add_reply(tool_calls=[("shout", {"text": "hi"})])
    model.add_reply("It said hi.")
    with ScenarioSession(path, "record", live=ServerLive(model.transport), task="grow and use") as s:
        with Agent(Qwen("qwen3:8b"), tools=[mcp(COUNTER, name="counter")]) as agent:
            s.result = agent.run(s.task)
    relisted = load(path).mcp[0].relisted
    assert [(r.after_calls, "shout" in {t["name"] for t in r.tools}) for r in relisted] == [(1, True)]

    # the replayed model turns were recorded with `shout` offered from the second request on: they match
    # only if the replay changes the list after the first call, as the server did
    result = _replay(path, mcp(NEVER_STARTED, name="counter"))
    assert [call.result for call in result.tool_calls] == ["added shout", "shout says hi"]
