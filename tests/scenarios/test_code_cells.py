from pathlib import Path

import yaml
from langchain_core.tools import StructuredTool

from castling.scenarios.format import AgentConfig, Recording, Scenario
from castling.scenarios.live import ServerLive
from castling.scenarios.names import register_tool
from castling.scenarios.runner import record, run_file
from castling.testing import ScriptedOllama

CALLS: list[str] = []


def _run(code: str) -> str:
    """Run Python code.

    Args:
        code: the source.
    """
    CALLS.append(code)
    return "1024\n"


run_python = StructuredTool.from_function(_run, name="run_python", parse_docstring=True)


def test_code_cells_are_recorded_and_can_be_replayed_without_running(tmp_path: Path):
    register_tool(run_python)
    server = ScriptedOllama("qwen3:8b")
    server.add_reply(tool_calls=[("run_python", {"code": "print(2**10)"})])
    server.add_reply("2**10 = 1024")
    scenario = Scenario(
        id="cells",
        task="2**10?",
        agent=AgentConfig(model="qwen3:8b", think=False, tools=["run_python"]),
        recording=Recording(source="constructed"),
    )
    path = tmp_path / "cells.yaml"
    assert record(scenario, path, ServerLive(server.transport)).saved
    data = yaml.safe_load(path.read_text())
    assert data["code_exec"] == [
        {"id": "c0", "tool": "run_python", "input": {"code": "print(2**10)"}, "output": "1024\n"}  # rerun: the default
    ]
    CALLS.clear()
    assert run_file(path).status == "passed"
    assert CALLS == ["print(2**10)"]  # rerun: the code really ran again

    data["code_exec"][0]["policy"] = "replay"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    CALLS.clear()
    report = run_file(path)
    assert report.status == "passed", report.message()
    assert CALLS == []  # replay: recorded output served, code not run
    assert report.outcome is not None and report.outcome.tool_calls[0].result == "1024\n"
