"""`castling compare --live` through the command line, against a loopback server standing in for Ollama."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from castling.cli.main import main
from castling.scenarios.serve import TransportServer
from castling.testing import ScriptedOllama
from tests.scenarios.scenario_helpers import LIBRARY

MODELS = ["qwen3:8b", "llama3.2:3b"]


@pytest.fixture
def ollama() -> Iterator[tuple[ScriptedOllama, str]]:
    # Tasks run in file order (no-tool, then weather-single), each on each model in --models order.
    script = ScriptedOllama("qwen3:8b", installed=MODELS)
    script.add_reply("The capital of Italy is Rome.", prompt_tokens=40, completion_tokens=8)
    script.add_reply("I think it is Milan.", prompt_tokens=41, completion_tokens=6)
    script.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    script.add_reply("It is 18 °C and sunny in Paris.")
    script.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    script.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    script.add_reply("Paris: 18 °C.")
    server = TransportServer(script.transport, port=0).start()
    yield script, server.url
    server.stop()


def test_compare_live_runs_each_task_on_each_chosen_model(
    ollama: tuple[ScriptedOllama, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    script, host = ollama
    files = [str(LIBRARY / "qwen" / "no-tool.yaml"), str(LIBRARY / "qwen" / "weather-single.yaml")]
    report = tmp_path / "live.html"
    argv = ["compare", *files, "--live", "--models", ",".join(MODELS), "--host", host, "--html", str(report)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert [r["model"] for r in script.requests] == ["qwen3:8b", "llama3.2:3b", "qwen3:8b", "qwen3:8b"] + [
        "llama3.2:3b"
    ] * 3
    llama, qwen = out.split("qwen · qwen3:8b · strategy=tools")  # tables sorted by backbone
    assert "llama · llama3.2:3b · strategy=tools" in llama
    assert _row(qwen, "no-tool")[:5] == ["✔", "1", "0", "48", "0.25s"] and _row(qwen, "weather-single")[:3] == [
        "✔",
        "2",
        "1",
    ]
    assert _row(llama, "no-tool")[0] == "✘" and _row(llama, "weather-single")[:3] == ["✔", "3", "2"]
    assert _row(qwen, "TOTAL")[0] == "2/2" and _row(llama, "TOTAL")[0] == "1/2"
    assert all(_row(part, "no-tool")[-1] == "live" for part in (qwen, llama))
    html = report.read_text()
    assert "llama3.2:3b" in html and "contains &#x27;Rome&#x27;" in html
    overview = html.split("<h2>Overview</h2>")[1].split("</table>")[0]
    no_tool = overview.split("<th>no-tool</th>")[1].split("</tr>")[0]  # columns: llama3.2:3b, qwen3:8b
    assert no_tool.index("cell-bad") < no_tool.index("cell-ok") and "1 step · 0 calls · 47 tok" in no_tool
    assert not re.search(r"(src|href)\s*=|<script|<link|@import|url\(", html)


def test_compare_live_without_a_server_reports_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    report = tmp_path / "down.html"
    server = TransportServer(ScriptedOllama("qwen3:8b").transport, port=0)
    host = server.url
    server.httpd.server_close()  # a port nothing listens on any more
    argv = ["compare", str(LIBRARY / "qwen" / "no-tool.yaml"), "--live", "--models", "qwen3:8b", "--host", host]
    assert main([*argv, "--html", str(report)]) == 1
    captured = capsys.readouterr()
    assert _row(captured.out, "no-tool")[:2] == ["✘", "0"]
    why = next(line for line in captured.out.splitlines() if line.startswith("  ✘ no-tool: "))
    assert why.startswith("  ✘ no-tool: the run failed: ServerUnreachable") and host in why
    assert "expected contains" not in why  # consequences of the failed run are not listed
    assert "✘ run failed</span><span class='sub'>ServerUnreachable</span>" in report.read_text()
    assert "1 of 1 runs failed before an answer" in captured.err


def test_compare_live_under_the_plan_strategy(capsys: pytest.CaptureFixture[str]):
    script = ScriptedOllama("llama3.2:3b", installed=["llama3.2:3b"])
    step = {"goal": "Get the weather in Paris", "tool": "weather"}
    script.add_reply(json.dumps({"steps": [step], "answer": None}))  # planner
    script.add_reply(json.dumps({"tool": "weather", "arguments": {"city": "Paris"}, "answer": None}))  # executor
    script.add_reply(json.dumps({"done": True, "answer": "Paris: 18 °C, sunny.", "steps": []}))  # re-planner
    server = TransportServer(script.transport, port=0).start()
    try:
        argv = ["compare", str(LIBRARY / "qwen" / "weather-single.yaml"), "--live", "--models", "llama3.2:3b"]
        assert main([*argv, "--strategy", "plan", "--host", server.url]) == 0
    finally:
        server.stop()
    out = capsys.readouterr().out
    assert "llama · llama3.2:3b · strategy=plan" in out  # the recording says tools; the run used plan
    assert _row(out, "weather-single")[:3] == ["✔", "3", "1"] and script.pending == 0


def _row(text: str, task: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(task + " "))
    return line.split()[1:]
