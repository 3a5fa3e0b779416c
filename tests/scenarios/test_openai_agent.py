"""End to end on the OpenAI wire: castling Agents with `server="openai"` replaying the library's `openai/qwen/` files
(constructed vLLM-shaped traffic, recorded from ScriptedOpenAI) through `castling replay`, the pytest plugin, the
`scenario` fixture and `castling serve`."""

import shutil
from pathlib import Path

import pytest
import yaml

from castling.cli.main import main
from castling.scenarios.runner import run_file
from castling.scenarios.serve import ReplayServer
from castling.scenarios.store import load
from tests.scenarios.scenario_helpers import LIBRARY

OPENAI = LIBRARY / "openai" / "qwen"
SINGLE = OPENAI / "weather-single.yaml"
MODEL = "Qwen/Qwen3-8B"


def test_castling_replay_runs_the_openai_library(capsys: pytest.CaptureFixture[str]):
    assert main(["replay", str(OPENAI)]) == 0
    out = capsys.readouterr().out
    assert "openai-qwen-weather-single" in out and "openai-qwen-malformed-recovered" in out
    assert "9 of 9 scenarios ok (mode=replay)" in out


def test_the_parallel_calls_replay_with_their_results_matched_by_id():
    report = run_file(OPENAI / "weather-parallel.yaml")
    assert report.status == "passed", report.message()
    assert report.outcome is not None
    assert [c.arguments for c in report.outcome.tool_calls] == [{"city": "Paris"}, {"city": "Lyon"}]
    second = load(OPENAI / "weather-parallel.yaml").model_turns[1].request.body
    calls = second["messages"][-3]["tool_calls"]
    assert [m["tool_call_id"] for m in second["messages"][-2:]] == [c["id"] for c in calls]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (pytester.path / "scenarios" / "openai").mkdir(parents=True)
    for name in ("weather-single.yaml", "weather-parallel.yaml"):  # two files keep the runs short
        shutil.copy(OPENAI / name, pytester.path / "scenarios" / "openai" / name)
    return pytester


def test_the_pytest_plugin_collects_and_replays_openai_files(project: pytest.Pytester):
    result = project.runpytest("scenarios", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*weather-single PASSED*", "*scenario results (mode=replay)*"])


def test_a_changed_system_prompt_diverges_and_update_rerecords_without_a_server(project: pytest.Pytester):
    path = project.path / "scenarios" / "openai" / "weather-single.yaml"
    data = yaml.safe_load(path.read_text())
    data["agent"]["system"] = "You are a weather bot."
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    result = project.runpytest("scenarios")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*diverged at model turn 0 of 2 (POST /v1/chat/completions, OpenAI-compatible API)*", "*system prompt*"]
    )
    project.runpytest("scenarios", "--scenario-mode=update").assert_outcomes(passed=2)
    project.runpytest("scenarios").assert_outcomes(passed=2)
    turn = load(path).model_turns[0]
    assert turn.request.path == "/v1/chat/completions" and turn.response.content_type == "text/event-stream"


def test_scenario_fixture_replays_an_agent_built_with_server_openai(project: pytest.Pytester):
    path = project.path / "scenarios" / "openai" / "weather-single.yaml"
    project.makepyfile(
        test_mine=f"""
        from castling import Agent, Qwen
        from castling.scenarios.library_tools import weather

        def test_my_agent(scenario):
            agent = Agent(Qwen({MODEL!r}, server="openai", host="http://gpu1:8000/v1"), [weather], max_steps=6)
            with scenario({str(path)!r}) as s:  # the agent was built before the block: the override still applies
                result = agent.run(s.task)
            assert "18 °C" in result.answer

        def test_wrong_agent_diverges(scenario):
            with scenario({str(path)!r}) as s:
                Agent(Qwen({MODEL!r}, server="openai"), [weather], system="Changed.", max_steps=6).run(s.task)
        """
    )
    result = project.runpytest("test_mine.py")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*ModelTurnDiverged*"])
    assert "diverged at model turn 0 of 2 (POST /v1/chat/completions, OpenAI-compatible API)" in result.stdout.str()


def test_an_agent_talks_to_castling_serve_over_loopback():
    from castling import Agent, Qwen
    from castling.scenarios.library_tools import weather

    server = ReplayServer(SINGLE, port=0).start()
    try:
        backbone = Qwen(MODEL, server="openai", host=server.url + "/v1")
        result = Agent(backbone, [weather], max_steps=6).run(load(SINGLE).task)
    finally:
        server.stop()
    assert result.answer == load(SINGLE).outcome.final_answer
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("weather", {"city": "Paris"})]


async def test_an_async_agent_replays_the_openai_file():
    from castling import Agent, Qwen
    from castling.scenarios.library_tools import weather
    from castling.scenarios.session import ScenarioSession

    with ScenarioSession(OPENAI / "weather-parallel.yaml") as s:
        result = await Agent(Qwen(MODEL, server="openai"), [weather], max_steps=6).arun(s.task)
    assert result.answer == s.scenario.outcome.final_answer
    assert [c.arguments for c in result.tool_calls] == [{"city": "Paris"}, {"city": "Lyon"}]


def test_castling_record_from_an_openai_server_over_loopback(tmp_path: Path):
    from castling.scenarios.serve import TransportServer
    from castling.testing import ScriptedOpenAI

    scripted = ScriptedOpenAI(MODEL)
    scripted.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    scripted.add_reply("It is 18 °C and sunny in Paris.")
    server = TransportServer(scripted.transport, port=0).start()
    path = tmp_path / "recorded.yaml"
    try:
        command = ["record", "Weather in Paris?", "--server", "openai", "--host", server.url + "/v1"]
        assert main([*command, "--backbone", MODEL, "--tools", "weather", "-o", str(path)]) == 0
    finally:
        server.stop()
    recorded = load(path)
    assert recorded.agent.server == "openai" and recorded.recording.source == "live"
    assert [t.request.path for t in recorded.model_turns] == ["/v1/chat/completions"] * 2
    assert scripted.pending == 0 and run_file(path).status == "passed"  # and it replays offline
