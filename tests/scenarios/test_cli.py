from pathlib import Path

import pytest
import yaml

from castling.cli.main import main
from castling.scenarios.commands import live_rows
from castling.scenarios.live import ServerLive
from castling.scenarios.report import compare_text
from castling.scenarios.serve import ReplayServer
from castling.scenarios.store import discover, load
from castling.testing import ScriptedOllama
from tests.scenarios.scenario_helpers import LIBRARY


def test_replay_command_filters_and_summarises(capsys: pytest.CaptureFixture[str]):
    assert main(["replay", str(LIBRARY), "-k", "weather-single"]) == 0
    out = capsys.readouterr().out
    assert "qwen-weather-single" in out and "llama-weather-single" in out and "multi-step" not in out
    assert "llama-plan-weather-single" in out and "openai-llama-plan-weather-single" in out
    assert "6 of 6 scenarios ok (mode=replay)" in out


def test_replay_command_fails_on_divergence(library: Path, capsys: pytest.CaptureFixture[str]):
    path = library / "qwen" / "no-tool.yaml"
    data = yaml.safe_load(path.read_text())
    data["task"] = "What is the capital of Spain?"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert main(["replay", str(library / "qwen"), "-k", "no-tool"]) == 1
    captured = capsys.readouterr()
    assert "Likely cause: the task or a user message changed" in captured.err
    assert "✘ DIV" in captured.out


def test_compare_prints_tables_per_backbone_and_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    report = tmp_path / "compare.html"
    assert main(["compare", str(LIBRARY), "--html", str(report)]) == 0
    out = capsys.readouterr().out
    assert "qwen · qwen3:8b · strategy=tools" in out and "llama · llama3.1:8b · strategy=tools" in out
    qwen_table = out.split("qwen · qwen3:8b")[1]
    assert "multi-step" in qwen_table and "TOTAL" in qwen_table
    multi = next(line for line in qwen_table.splitlines() if line.startswith("multi-step"))
    assert multi.split()[1:5] == ["✔", "4", "3", "120"]
    html = report.read_text()
    assert html.startswith("<!doctype html>") and "<style>" in html
    assert "src=" not in html and "<script" not in html and "llama3.1:8b" in html


def test_compare_live_runs_each_task_on_each_model():
    scenarios = [load(p) for p in discover([LIBRARY / "qwen"]) if p.stem in ("no-tool", "weather-single")]
    servers = []

    def live() -> ServerLive:
        server = ScriptedOllama(["qwen3:8b", "llama3.1:8b"][len(servers) % 2], installed=["qwen3:8b", "llama3.1:8b"])
        if len(servers) < 2:  # no-tool first (sorted paths), on each model
            server.add_reply("Rome." if not servers else "It is Rome.")
        else:
            server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
            server.add_reply("18 °C." if len(servers) == 2 else "Sunny.")
        servers.append(server)
        return ServerLive(server.transport, source="live")

    rows = live_rows(scenarios, ["qwen3:8b", "llama3.1:8b"], live)
    assert [(r.task, r.backbone, r.solved) for r in rows] == [
        ("no-tool", "qwen", True),
        ("no-tool", "llama", True),
        ("weather-single", "qwen", True),
        ("weather-single", "llama", False),
    ]
    text = compare_text(rows)
    assert "llama · llama3.1:8b" in text and "1/2" in text


def test_record_command_against_a_served_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    server = ReplayServer(LIBRARY / "qwen" / "weather-single.yaml", port=0, loose=True).start()
    out_file = tmp_path / "rec" / "paris.yaml"
    try:
        code = main(
            ["record", "What's the weather in Paris?", "-m", "qwen3:8b", "--backbone", "qwen", "--tools", "weather"]
            + ["--host", server.url, "-o", str(out_file)]
        )
    finally:
        server.stop()
    assert code == 0, capsys.readouterr()
    scenario = load(out_file)
    assert scenario.recording.source == "constructed" and len(scenario.model_turns) == 2  # served, not live
    assert scenario.recording.provenance.startswith("castling serve replaying")
    assert scenario.expectations[0].final_answer is not None
    assert main(["replay", str(out_file)]) == 0


def test_record_command_without_ollama_saves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out_file = tmp_path / "x.yaml"
    code = main(["record", "hi", "-m", "qwen3:8b", "--host", "http://127.0.0.1:9", "-o", str(out_file)])
    assert code == 1 and not out_file.exists()
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err  # one line, like the chat's
    assert err.startswith("castling record: Ollama is not reachable") and err.endswith("; nothing saved\n")
    assert "--host" in err and "host=" not in err and "ServerUnreachable" not in err


def test_record_keeps_the_old_backbone_model_form_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    server = ReplayServer(LIBRARY / "qwen" / "weather-single.yaml", port=0, loose=True).start()
    out_file = tmp_path / "paris.yaml"
    try:
        code = main(
            ["record", "What's the weather in Paris?", "--backbone", "qwen3:8b", "--tools", "weather"]
            + ["--host", server.url, "-o", str(out_file)]
        )
    finally:
        server.stop()
    assert code == 0
    assert "--backbone qwen3:8b as the model is deprecated: use -m qwen3:8b" in capsys.readouterr().err
    agent = load(out_file).agent
    assert (agent.model, agent.backbone) == ("qwen3:8b", "qwen")


def test_compare_says_which_scenarios_it_leaves_out_and_shows_no_discovery_row(capsys: pytest.CaptureFixture[str]):
    assert main(["compare", str(LIBRARY)]) == 0
    out = capsys.readouterr().out
    assert "default-model" not in out.split("not compared:")[0]  # no task row for the model listing
    note = out.split("not compared:")[1]
    assert "wire-only (they check the client, not an agent): " in note and "openllmetry-llama3-joke-stream" in note
    assert "1 discovery (model listing, not a task): llamastack-tags-default-model" in note
