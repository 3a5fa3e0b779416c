from pathlib import Path

import yaml

from castling.scenarios.live import ServerLive
from castling.scenarios.replayer import ModelReplay
from castling.scenarios.report import pass_hat_k
from castling.scenarios.runner import run_file
from castling.scenarios.session import ScenarioSession
from castling.scenarios.store import load
from castling.testing import ScriptedOllama
from tests.scenarios.scenario_helpers import recorded_weather, weather_scenario, weather_server


def test_record_writes_turns_metadata_and_keeps_expectations(tmp_path: Path):
    path = recorded_weather(tmp_path / "w.yaml")
    scenario = load(path)
    assert scenario.recording.source == "constructed"
    assert scenario.recording.ollama_version == "0.12.10"
    assert scenario.recording.client_versions["ollama"]
    assert [t.summary.tool_calls for t in scenario.model_turns] == [
        [{"name": "weather", "arguments": {"city": "Paris"}}],
        [],
    ]
    assert scenario.model_turns[0].request.fingerprint.startswith("sha256:")
    assert {s.path for s in scenario.server} >= {"/api/show", "/api/version", "/api/tags"}
    assert scenario.outcome.final_answer == "It is 18 °C and sunny in Paris."
    assert [e.final_answer.contains for e in scenario.expectations if e.final_answer] == ["18 °C"]


def test_record_scaffolds_expectations_for_a_new_scenario(tmp_path: Path):
    path = tmp_path / "new.yaml"
    report = run_file_record(weather_scenario().model_copy(update={"expectations": []}), path)
    assert report.saved
    kinds = [next(k for k, v in e.model_dump().items() if v is not None) for e in load(path).expectations]
    assert kinds == ["final_answer", "tool_called", "max_steps", "no_error"]
    assert load(path).expectations[2].max_steps == 4


def run_file_record(scenario, path: Path):
    from castling.scenarios.runner import record

    return record(scenario, path, ServerLive(weather_server().transport))


def test_crashed_record_does_not_overwrite(tmp_path: Path):
    path = recorded_weather(tmp_path / "w.yaml")
    before = path.read_bytes()
    broken = ScriptedOllama("qwen3:8b")
    broken.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    broken.add_error(500, "model runner crashed")
    report = run_file(path, "record", live=ServerLive(broken.transport))
    assert report.status == "error" and not report.saved
    assert "model runner crashed" in report.message() and "nothing saved" in report.message()
    assert path.read_bytes() == before


def test_record_that_fails_expectations_does_not_save(tmp_path: Path):
    path = recorded_weather(tmp_path / "w.yaml")
    before = path.read_bytes()
    report = run_file(path, "record", live=ServerLive(weather_server(answer="It is snowing.").transport))
    assert report.status == "failed" and not report.saved
    assert path.read_bytes() == before


def test_update_rerecords_only_diverged_scenarios(tmp_path: Path):
    path = recorded_weather(tmp_path / "w.yaml")
    before = path.read_bytes()
    assert run_file(path, "update").status == "passed"
    assert path.read_bytes() == before  # nothing diverged: untouched

    data = yaml.safe_load(path.read_text())
    data["agent"]["system"] = "Be brief."
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert run_file(path).status == "diverged"
    report = run_file(path, "update")
    assert report.status == "passed" and report.saved, report.message()
    assert "re-recorded after divergence: model-turn" in report.note
    fresh = load(path)
    assert fresh.model_turns[0].request.body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert fresh.recording.source == "constructed"
    assert fresh.expectations == load(path).expectations and fresh.expectations[0].final_answer is not None
    assert run_file(path).status == "passed"


def test_update_keeps_old_file_when_new_run_fails_expectations(tmp_path: Path):
    path = recorded_weather(tmp_path / "w.yaml")
    data = yaml.safe_load(path.read_text())
    data["agent"]["system"] = "Be brief."
    data["model_turns"][1]["response"]["chunks"][0]["message"]["content"] = "Snow "
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    before = path.read_bytes()
    report = run_file(path, "update")
    assert report.status == "failed" and not report.saved
    assert "re-recorded but failed; the old file was kept" in report.message()
    assert path.read_bytes() == before


def test_live_mode_repeats_and_touches_nothing(tmp_path: Path):
    path = recorded_weather(tmp_path / "w.yaml")
    before = path.read_bytes()
    server = ScriptedOllama("qwen3:8b")
    for answer in ("It is 18 °C in Paris.", "Sunny, no idea of the temperature.", "18 °C and sunny."):
        server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
        server.add_reply(answer)
    report = run_file(path, "live", live=ServerLive(server.transport), repeat=3)
    assert report.passes == [True, False, True]
    assert report.status == "failed"
    assert pass_hat_k(report.passes) == "0.67 0.33 0.00"
    assert path.read_bytes() == before and not server.pending


def test_record_missing_records_then_replays(tmp_path: Path):
    from castling import Agent, Qwen
    from castling.scenarios.library_tools import weather

    path = tmp_path / "fresh.yaml"
    with ScenarioSession(
        path, "record-missing", live=ServerLive(weather_server().transport), task="Weather in Paris?"
    ) as s:
        s.result = Agent(Qwen("qwen3:8b", think=False), [weather]).run(s.task)
    assert path.exists() and load(path).outcome.final_answer == "It is 18 °C and sunny in Paris."
    with ScenarioSession(path, "record-missing") as s:  # exists now: replays, no server given
        assert isinstance(s.model_transport, ModelReplay)
        result = Agent(Qwen("qwen3:8b", think=False), [weather]).run(s.task)
    assert result.answer == "It is 18 °C and sunny in Paris."


def test_library_replays_with_the_real_python_and_fetch_tools(library: Path):
    from castling.scenarios.store import discover

    reports = [run_file(p) for p in discover([library])]
    statuses = {r.path.relative_to(library).as_posix(): r.status for r in reports}
    assert len(statuses) >= 24
    assert set(statuses.values()) == {"passed"}, statuses
    sources = {load(r.path).recording.source for r in reports if "live" in r.path.parts}
    assert sources == {"live"}


def test_scenario_needing_a_tool_that_cannot_start_is_skipped_with_the_reason(library: Path, monkeypatch):
    import castling.tools
    from castling.tools.code.errors import SandboxUnavailable

    def no_sandbox() -> None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: sudo apt-get install bubblewrap")

    monkeypatch.setattr(castling.tools, "python", no_sandbox, raising=False)
    report = run_file(library / "qwen" / "code-exec.yaml")
    assert report.status == "skipped"
    assert "the built-in tool 'python' cannot start here" in report.note
    assert "apt-get install bubblewrap" in report.note


async def test_async_agent_replays_through_the_session(library: Path):
    from castling import Agent, Qwen
    from castling.scenarios.library_tools import page_title_tool

    with ScenarioSession(library / "qwen" / "web-title.yaml") as s:
        agent = Agent(Qwen("qwen3:8b"), [page_title_tool(s.http_transport)], strategy="tools", max_steps=6)
        result = await agent.arun(s.task)
    assert result.answer == "The title of https://example.org/ is “Example Domain”."
    assert result.tool_calls[0].result == "Example Domain"


def test_recording_live_traffic_without_ollama_keeps_the_file(library: Path):
    from castling.scenarios.live import OllamaLive

    path = library / "live" / "openllmetry-llama3-joke-stream.yaml"
    before = path.read_bytes()
    report = run_file(path, "record", live=OllamaLive("http://127.0.0.1:9"))
    assert report.status == "error" and "cannot reach Ollama" in report.message()
    assert path.read_bytes() == before
