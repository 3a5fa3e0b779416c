"""A scenario file is data: replaying or collecting a hostile one runs nothing the test code did not bring.

Each hostile file sits in a throwaway project whose `evil` module leaves a marker file when imported or called,
and is on PYTHONPATH, so an import from the file would succeed: the marker must never appear.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from castling.errors import ConfigError, ScenarioFileError
from castling.scenarios.store import load, store_blob
from castling.scenarios.store import save as save_scenario
from tests.scenarios.scenario_helpers import LIBRARY

CASTLING = Path(sys.executable).with_name("castling")
EVIL = """
from pathlib import Path
MARKER = Path(__file__).with_name("PWNED")
MARKER.write_text("imported")

def pwn(command: str) -> str:
    '''Run a command.'''
    MARKER.write_text("called: " + command)
    return "done"

def verdict(outcome):
    MARKER.write_text("check ran")
    return True

class Backbone:
    pass
"""


def _hostile(tmp: Path, name: str, change: Any) -> Path:
    """The library's one-call weather scenario, turned into an attack by `change(data)`."""
    data = yaml.safe_load((LIBRARY / "qwen" / "weather-single.yaml").read_text())
    change(data)
    target = tmp / "scenarios" / f"{name}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return target


def _call_the_tool(data: dict[str, Any], tool: str) -> None:
    """Make the recorded turn call `tool` and match whatever the agent sends (what breach 1 used)."""
    data["agent"]["tools"] = [tool]
    data["matching"] = {"ignore_paths": ["$.tools", "$.messages"]}
    data["expectations"] = [{"tool_called": {"name": "pwn"}}]
    for chunk in data["model_turns"][0]["response"]["chunks"]:
        for call in chunk["message"].get("tool_calls", []):
            call["function"]["name"] = "pwn"
            call["function"]["arguments"] = {"command": "id"}


ATTACKS = {
    "tool": lambda d: _call_the_tool(d, "evil:pwn"),
    "stdlib-tool": lambda d: _call_the_tool(d, "subprocess:getoutput"),
    "backbone": lambda d: d["agent"].update(backbone="evil:Backbone"),
    "custom-check": lambda d: d.update(expectations=[{"custom": "evil:verdict"}]),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "evil.py").write_text(EVIL)
    for name, attack in ATTACKS.items():
        _hostile(tmp_path, name, attack)
    return tmp_path


def _run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120)


def _pytest(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return _run(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments)


def test_castling_replay_refuses_every_name_it_would_have_to_import(project: Path):
    result = _run(project, str(CASTLING), "replay", "scenarios")
    assert not (project / "PWNED").exists(), (project / "PWNED").read_text()
    assert result.returncode == 1
    assert "0 of 4 scenarios ok" in result.stdout
    assert "nothing registered the tool 'evil:pwn'" in result.stderr
    assert "nothing registered the tool 'subprocess:getoutput'" in result.stderr
    assert "Unknown backbone 'evil:Backbone'" in result.stderr
    assert "nothing registered the check 'evil:verdict'" in result.stderr


def test_bare_pytest_collects_the_files_and_runs_none_of_their_code(project: Path):
    result = _pytest(project, "scenarios")
    assert not (project / "PWNED").exists(), (project / "PWNED").read_text()
    assert "4 failed" in result.stdout, result.stdout[-2000:]
    assert "castling_tools = module:attr" in result.stdout


def test_a_tool_the_test_code_registers_runs(project: Path):
    (project / "conftest.py").write_text(
        "import evil\nfrom castling.scenarios.names import register_tool\nregister_tool(evil.pwn, name='evil:pwn')\n"
    )
    result = _pytest(project, "scenarios/tool.yaml")
    assert "1 passed" in result.stdout, result.stdout[-2000:]
    assert (project / "PWNED").read_text() == "called: id"


def test_configuration_allows_a_tool_and_a_check_by_path(project: Path):
    (project / "pytest.ini").write_text("[pytest]\ncastling_checks = evil:verdict\n")
    result = _run(
        project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "scenarios/custom-check.yaml"
    )
    assert "1 passed" in result.stdout, result.stdout[-2000:]
    assert (project / "PWNED").read_text() == "check ran"
    replayed = _run(project, str(CASTLING), "replay", "--tool", "evil:pwn", "scenarios/tool.yaml")
    assert "1 of 1 scenarios ok" in replayed.stdout, replayed.stderr
    assert (project / "PWNED").read_text() == "called: id"


@pytest.mark.parametrize("body_file", ["../../secret.txt", "/etc/hostname", "blobs/../../secret.txt", "blobs/a/b"])
def test_a_body_file_outside_the_blobs_folder_is_refused_at_load(tmp_path: Path, body_file: str):
    def point_outside(data: dict[str, Any]) -> None:
        request = {"method": "GET", "url": "https://example.org/"}
        data["tool_http"] = [{"id": "h0", "request": request, "response": {"body_file": body_file}}]

    path = _hostile(tmp_path, "blob", point_outside)
    with pytest.raises(ScenarioFileError, match=r"blob.yaml:\d+: invalid scenario at tool_http.0.response.body_file"):
        load(path)


def test_a_blob_that_links_outside_its_folder_is_not_served(library: Path, tmp_path: Path):
    path = library / "qwen" / "web-fetch.yaml"
    scenario = load(path)
    exchange = next(e for e in scenario.tool_http if e.response.body)
    blob = store_blob(path.parent, (exchange.response.body or "").encode(), ".html")
    exchange.response.body, exchange.response.body_file = None, blob
    save_scenario(scenario, path)
    assert "1 of 1 scenarios ok" in _replay(path, tmp_path).stdout  # the blob itself is served

    (tmp_path / "secret.txt").write_text("the host's secret")
    (path.parent / blob).unlink()
    (path.parent / blob).symlink_to(tmp_path / "secret.txt")
    result = _replay(path, tmp_path)
    assert "outside the scenario's blobs/ folder" in result.stdout + result.stderr
    assert "the host's secret" not in result.stdout + result.stderr


def _replay(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CASTLING), "replay", str(path)], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path: Path):
    # Nine levels of ten aliases: 10^9 values once expanded, in a file otherwise valid (the bomb sits in the
    # model options, which every request would serialise).
    levels = ["x0: &x0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = "\n".join("    " + line for line in levels)
    text = (LIBRARY / "qwen" / "weather-single.yaml").read_text()
    text = text.replace("agent:\n", "agent:\n  options:\n" + bomb + "\n", 1)
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    assert len(bomb) < 4096
    with pytest.raises(ScenarioFileError, match="alias bomb"):
        load(path)


def test_files_written_by_castling_still_load(tmp_path: Path):
    scenario = load(LIBRARY / "qwen" / "web-fetch.yaml")
    save_scenario(scenario, tmp_path / "copy.yaml")
    copy = load(tmp_path / "copy.yaml")
    assert copy.schema_version == 2  # castling writes the current version, whatever it read
    assert copy.model_copy(update={"schema_version": scenario.schema_version}) == scenario


def test_a_backbone_the_code_registers_replays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from castling.backbones import registry
    from castling.backbones.qwen import Qwen
    from castling.scenarios.runner import run_file

    class MyQwen(Qwen):
        pass

    path = _hostile(tmp_path, "mine", lambda d: d["agent"].update(backbone="my-qwen"))
    with pytest.raises(ConfigError, match="Unknown backbone 'my-qwen'"):
        run_file(path)
    monkeypatch.setattr(registry, "BACKBONES", dict(registry.BACKBONES))
    registry.register_backbone("my-qwen", MyQwen)
    assert run_file(path).status == "passed"
