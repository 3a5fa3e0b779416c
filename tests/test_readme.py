"""The README's tour runs as written (against a scripted Ollama instead of a local server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from castling.backbones.server import override_transport
from castling.testing import ScriptedOllama

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def block(containing: str) -> str:
    """The README's one python block that contains `containing`."""
    (found,) = [b for b in python_blocks() if containing in b]
    return found


@pytest.fixture
def server():
    scripted = ScriptedOllama("qwen3:8b", installed=["qwen3:8b", "llama3.2:3b", "llama3.1:8b"])
    with override_transport(scripted.transport):
        yield scripted


def test_write_an_agent_block_runs(server, capsys):
    server.add_reply(tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})])
    server.add_reply("Paris is sunny, Lyon is rainy.")
    server.add_reply("Go to Paris.", thinking="Sun beats rain.")
    server.add_reply("Tomorrow: ask me again tomorrow.")
    namespace: dict[str, object] = {}
    exec(compile(python_blocks()[0], "README.md", "exec"), namespace)
    result = namespace["result"]
    assert result.answer == "Paris is sunny, Lyon is rainy."
    assert [c.result for c in result.tool_calls] == ["sunny, 21 C", "rain, 15 C"]
    out = capsys.readouterr().out
    assert "Sun beats rain.Go to Paris." in out
    assert server.pending == 0
    assert server.requests[-1]["messages"][-1]["content"] == "and tomorrow?"


@pytest.fixture
def reachable_cwd(monkeypatch):
    """A working directory the sandbox uid can reach (the README's workspace="./work" is relative to it)."""
    import os
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="castling-readme-")
    os.chmod(path, 0o755)
    monkeypatch.chdir(path)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def test_swap_and_tools_blocks_construct_what_they_show(server, reachable_cwd):
    blocks = python_blocks()
    namespace: dict[str, object] = {}
    exec(compile(blocks[0].split("result = agent.run")[0], "README.md", "exec"), namespace)
    swap = blocks[1].replace('result = agent.run("Compare', 'result = None and agent.run("Compare')
    swap = "\n".join(line for line in swap.splitlines() if not line.startswith(("result.plan", "result.steps")))
    exec(compile(swap, "README.md", "exec"), namespace)
    assert type(namespace["agent"].backbone).__name__ == "Llama"
    assert namespace["agent"].strategy == "plan"
    exec(compile(block("python(timeout=60"), "README.md", "exec"), namespace)
    assert namespace["agent"].toolbox.names == ["run_python", "fetch"]
    assert (reachable_cwd / "work").is_dir()


def test_choose_the_server_block_builds_what_it_shows(server):
    namespace: dict[str, object] = {}
    exec(compile(python_blocks()[0].split("agent = Agent")[0], "README.md", "exec"), namespace)
    exec(compile(block('server="openai"'), "README.md", "exec"), namespace)
    vllm, pool, agent = namespace["vllm"], namespace["pool"], namespace["agent"]
    assert (vllm.server.api, vllm.server.host, vllm.model) == ("openai", "http://gpu1:8000/v1", "Qwen/Qwen3-8B")
    assert [one.host for one in pool.server.servers] == ["http://gpu1:11434", "http://gpu2:11434"]
    assert agent.backbone is vllm and agent.toolbox.names == ["weather"]
    assert server.requests == []  # nothing is sent before the first run
