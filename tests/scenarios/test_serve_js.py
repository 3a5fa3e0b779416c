"""The official Ollama JavaScript client (ollama-js) against a real `castling serve` process.

The client is pinned in tests/js/package.json (+ package-lock.json) and installed by `make system-deps`
(`npm ci --prefix tests/js`), never from the network at test time. Without node the test is skipped on a
developer's machine and fails on CI; with node but without the installed package it fails, saying what to run.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.scenarios.serve_helpers import dotnet_conversation, serving

JS = Path(__file__).resolve().parents[1] / "js"
INSTALL = "run `make system-deps` (it runs `npm ci --prefix tests/js`)"


def node() -> str:
    """The node binary, with the pinned ollama-js installed next to the client script."""
    binary = shutil.which("node")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"node is missing on CI: {INSTALL} after installing nodejs")
        pytest.skip("node is not installed (apt-get install nodejs npm)")
    pinned = json.loads((JS / "package.json").read_text())["dependencies"]["ollama"]
    installed = JS / "node_modules" / "ollama" / "package.json"
    if not installed.is_file():
        pytest.fail(f"the ollama npm package is not installed in tests/js: {INSTALL}")
    version = json.loads(installed.read_text())["version"]
    if version != pinned:
        pytest.fail(f"tests/js has ollama {version}, package.json pins {pinned}: {INSTALL}")
    return binary


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What each step of tests/js/client.mjs got back from a served four-turn conversation."""
    binary = node()
    with serving(dotnet_conversation(tmp_path_factory.mktemp("js"))) as served:
        run = subprocess.run(
            [binary, str(JS / "client.mjs"), served.url], capture_output=True, text=True, timeout=60, cwd=JS
        )
    assert run.returncode == 0, run.stderr
    steps: dict[str, Any] = json.loads(run.stdout.splitlines()[-1])
    return steps


def returned(report: dict[str, Any], step: str) -> Any:
    """What the client's call returned at `step` (the test fails with what it threw instead)."""
    assert "returned" in report[step], f"{step}: the client threw {report[step]['thrown']}"
    return report[step]["returned"]


def thrown(report: dict[str, Any], step: str) -> dict[str, Any]:
    """The error the client threw at `step`: its name, Ollama's message and the HTTP status."""
    assert "thrown" in report[step], f"{step}: the client did not throw but returned {report[step]['returned']}"
    error: dict[str, Any] = report[step]["thrown"]
    return error


def test_discovery_calls(report: dict[str, Any]):
    assert returned(report, "version")["version"]
    assert [m["model"] for m in returned(report, "list")["models"]] == ["llama3.1"]
    assert [m["model"] for m in returned(report, "ps")["models"]] == ["llama3.1"]
    assert "tools" in returned(report, "show")["capabilities"]


def test_an_unknown_model_throws_ollamas_error(report: dict[str, Any]):
    error = thrown(report, "unknown_model")
    assert error == {"name": "ResponseError", "error": "model 'mistral' not found", "status_code": 404}


def test_a_divergence_throws_and_leaves_the_turn(report: dict[str, Any]):
    error = thrown(report, "diverged")
    assert error["status_code"] == 400 and "diverged at model turn 0 of 4" in error["error"]
    assert returned(report, "chat")["message"]["content"] == "Hello! How are you today? Is there something"


def test_chat_whole_and_streamed(report: dict[str, Any]):
    chat = returned(report, "chat")
    assert chat["done"] is True and chat["done_reason"] == "length"
    chunks = returned(report, "stream")
    assert len(chunks) > 1 and [c["done"] for c in chunks][-2:] == [False, True]
    assert "".join(c["content"] for c in chunks).startswith("Hello! How are you today? Is there something I can")


def test_a_tool_call_and_its_result(report: dict[str, Any]):
    call = returned(report, "tool_call")["message"]["tool_calls"]
    assert call == [{"function": {"name": "GetPersonAge", "arguments": {"personName": "Alice"}}}]
    assert returned(report, "tool_result")["message"]["content"] == "Alice is 42 years old."


def test_past_the_last_turn_the_client_throws_why(report: dict[str, Any]):
    error = thrown(report, "out_of_turns")
    assert error["name"] == "ResponseError" and "only 4 turns were recorded" in error["error"]
