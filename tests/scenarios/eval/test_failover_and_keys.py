"""Host fail-over (a host that refuses connections: its runs go to the others; an error only if all fail) and
the bearer key of an OpenAI-compatible server (`--api-key`, or CASTLING_API_KEY; for `--server openai` or files
that say `server: openai`)."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from castling.cli.main import main
from castling.scenarios.eval import run as run_module
from castling.scenarios.eval.journal import RunRecord
from castling.scenarios.eval.plan import plan_runs
from castling.scenarios.eval.run import run_all
from castling.scenarios.serve import TransportServer
from castling.scenarios.store import load
from tests.loopback import KEY, KeyedServer, refusing_url, serving
from tests.scenarios.eval.behaviours import Behaviours
from tests.scenarios.scenario_helpers import LIBRARY

NO_TOOL = str(LIBRARY / "qwen" / "no-tool.yaml")


@pytest.fixture
def alive() -> Iterator[str]:
    running = TransportServer(Behaviours().transport, port=0).start()
    yield running.url
    running.stop()


def test_runs_of_a_host_that_refuses_connections_go_to_the_other(
    alive: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    dead, out = refusing_url(), tmp_path / "eval.json"
    argv = ["eval", NO_TOOL, "--model", "right:1b", "--repeats", "4", "-j", "2", "--host", dead, "--host", alive]
    assert main([*argv, "--json", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert [(r["passed"], r["error_kind"], r["host"]) for r in runs] == [(True, "", alive)] * 4
    assert capsys.readouterr().err.count(f"host {dead} cannot be reached: its runs go to the other hosts") == 1


def test_a_host_killed_mid_eval_hands_the_remaining_runs_to_the_other(alive: str, monkeypatch: pytest.MonkeyPatch):
    root = Path(__file__).resolve().parents[3]
    command = [sys.executable, "-m", "tests.scenarios.eval.behaviours"]
    doomed = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        first = doomed.stdout.readline().strip() if doomed.stdout else ""
        started: list[str | None] = []

        def kill_before_the_third_run(spec: Any, host: str | None, *args: Any) -> RunRecord:
            if len(started) == 2 and doomed.poll() is None:
                doomed.kill()  # a real process dies between runs: its sockets close, new connections are refused
                doomed.wait()
            started.append(host)
            return real_run_one(spec, host, *args)

        real_run_one = run_module.run_one
        monkeypatch.setattr(run_module, "run_one", kill_before_the_third_run)
        down: list[str | None] = []
        specs = plan_runs([load(NO_TOOL)], ["right:1b"], repeats=5)
        records = run_all(specs, hosts=[first, alive], jobs=1, on_down=down.append)
    finally:
        doomed.kill()
        doomed.wait()
    assert [(r.passed, r.error_kind, r.host) for r in records] == [(True, "", first)] * 2 + [(True, "", alive)] * 3
    assert started == [first, first, first, alive, alive, alive]  # the third run tried the dead host once
    assert down == [first]


def test_an_error_only_when_every_host_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "eval.json"
    hosts = ["--host", refusing_url(), "--host", refusing_url()]
    assert main(["eval", NO_TOOL, "--model", "right:1b", "--repeats", "2", *hosts, "--json", str(out)]) == 1
    runs = json.loads(out.read_text())["runs"]
    assert [r["error_kind"] for r in runs] == ["ServerUnreachable"] * 2
    assert "2 of 2 runs failed before an answer" in capsys.readouterr().err


@pytest.fixture
def keyed() -> Iterator[tuple[KeyedServer, str]]:
    server = KeyedServer(replies=2)
    with serving(server) as url:
        yield server, url


def test_an_openai_compatible_server_gets_the_bearer_key_and_nothing_stores_it(
    keyed: tuple[KeyedServer, str], tmp_path: Path
):
    server, url = keyed
    argv = ["eval", NO_TOOL, "--model", "Qwen/Qwen3-8B", "--server", "openai", "--host", url, "--repeats", "2"]
    assert main([*argv, "--api-key", KEY, "--record", str(tmp_path / "runs"), "--json", str(tmp_path / "e.json")]) == 0
    assert server.authorizations and set(server.authorizations) == {f"Bearer {KEY}"}
    assert json.loads((tmp_path / "e.json").read_text())["overall"][0]["passed"] == 2
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 4 and not [p for p in written if KEY in p.read_text(encoding="utf-8")]


def test_the_key_comes_from_castling_api_key_and_without_it_the_server_refuses(
    keyed: tuple[KeyedServer, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    server, url = keyed
    monkeypatch.delenv("CASTLING_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # never sent to a host the user did not give it for
    argv = ["eval", NO_TOOL, "--model", "Qwen/Qwen3-8B", "--server", "openai", "--host", url]
    assert main([*argv, "--json", str(tmp_path / "a.json")]) == 1
    assert json.loads((tmp_path / "a.json").read_text())["runs"][0]["error_kind"] == "ServerResponseError"
    monkeypatch.setenv("CASTLING_API_KEY", KEY)
    assert main([*argv, "--json", str(tmp_path / "b.json")]) == 0
    assert server.authorizations[-1] == f"Bearer {KEY}"


def test_an_api_key_for_an_ollama_server_is_refused_with_what_to_do(capsys: pytest.CaptureFixture[str]):
    assert main(["eval", NO_TOOL, "--model", "qwen3:8b", "--api-key", KEY]) == 2
    assert "--api-key is for an OpenAI-compatible server: add --server openai" in capsys.readouterr().err


OPENAI_NO_TOOL = str(LIBRARY / "openai" / "qwen" / "no-tool.yaml")  # its agent says `server: openai`


def test_a_file_that_says_server_openai_takes_the_key_without_server_flag(
    keyed: tuple[KeyedServer, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    server, url = keyed
    monkeypatch.delenv("CASTLING_API_KEY", raising=False)
    assert load(OPENAI_NO_TOOL).agent.server == "openai"
    argv = ["eval", OPENAI_NO_TOOL, "--model", "Qwen/Qwen3-8B", "--host", url]
    assert main([*argv, "--api-key", KEY, "--json", str(tmp_path / "a.json")]) == 0
    assert json.loads((tmp_path / "a.json").read_text())["overall"][0]["passed"] == 1
    monkeypatch.setenv("CASTLING_API_KEY", KEY)
    assert main([*argv, "--json", str(tmp_path / "b.json")]) == 0
    assert json.loads((tmp_path / "b.json").read_text())["overall"][0]["passed"] == 1
    assert server.authorizations and set(server.authorizations) == {f"Bearer {KEY}"}


def test_a_key_for_openai_files_run_with_server_ollama_is_refused(capsys: pytest.CaptureFixture[str]):
    argv = ["eval", OPENAI_NO_TOOL, "--model", "qwen3:8b", "--server", "ollama", "--api-key", KEY]
    assert main(argv) == 2
    assert "--api-key is for an OpenAI-compatible server: add --server openai" in capsys.readouterr().err
