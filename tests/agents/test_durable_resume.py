"""Kill -9 an agent's process mid-run, resume in another process: finished tool calls are not repeated.

Real processes (tests/agents/agent_process.py), a real PostgreSQL (the `postgres_url` fixture), a scripted model
served over loopback HTTP (tests/agents/loopback_ollama.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from castling.testing import ScriptedOllama
from tests.agents.loopback_ollama import LoopbackOllama

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def script() -> ScriptedOllama:
    return ScriptedOllama("qwen3:8b")


@pytest.fixture
def ollama(script: ScriptedOllama) -> Iterator[LoopbackOllama]:
    with LoopbackOllama(script) as server:
        yield server


@pytest.fixture
def thread() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def agent_process(
    mode: str, db: str, ollama: LoopbackOllama, thread: str, journal: Path, *extra: str
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.agents.agent_process", mode, "--db", db, "--host", ollama.host]
    command += ["--thread", thread, "--journal", str(journal), *extra]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str]) -> dict:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def kill(process: subprocess.Popen[str]) -> None:
    process.kill()  # SIGKILL: no cleanup, no last checkpoint write
    process.communicate(timeout=30)


def waits_for_the_thread(process: subprocess.Popen[str], thread: str) -> bool:
    """Read the process's log until it says it waits for `thread` (False if it ends without saying so)."""
    assert process.stderr is not None
    return any(f"Thread {thread!r} is busy with another run" in line for line in process.stderr)


def journal_lines(journal: Path) -> list[str]:
    return journal.read_text().splitlines() if journal.exists() else []


@pytest.mark.parametrize("flavour", [[], ["--async"]], ids=["sync", "async"])
def test_killed_before_the_next_model_call_resumes_elsewhere_without_rerunning_the_tool(
    postgres_url, script, ollama, thread, tmp_path, flavour
):
    journal = tmp_path / "journal.txt"
    script.add_reply(tool_calls=[("append", {"line": "build passed"})])
    script.add_reply("Noted: the build passed.")
    second_call = ollama.hold(2)  # the model call after the tool: the process dies while it is in flight

    first = agent_process("run", postgres_url, ollama, thread, journal, *flavour)
    assert second_call.wait(60), first.stderr.read() if first.poll() is not None else "no second model call"
    kill(first)
    assert journal_lines(journal) == ["build passed"]

    result = finished(agent_process("resume", postgres_url, ollama, thread, journal, *flavour))

    assert journal_lines(journal) == ["build passed"]  # the tool ran once, before the kill
    assert result["answer"] == "Noted: the build passed."
    assert result["tools"] == ["append"]
    assert result["messages"] == [
        "human: Note that the build passed.",
        "ai: ",
        "tool: appended 'build passed'",
        "ai: Noted: the build passed.",
    ]
    assert script.pending == 0


def test_killed_while_waiting_for_approval_resumes_with_the_decision_in_another_process(
    postgres_url, script, ollama, thread, tmp_path
):
    journal = tmp_path / "journal.txt"
    script.add_reply(tool_calls=[("append", {"line": "deploy"})])
    script.add_reply("Deployed.")

    waiting = agent_process("run", postgres_url, ollama, thread, journal, "--approve", "--async")
    assert json.loads(waiting.stdout.readline()) == {"waiting": "approval"}
    kill(waiting)
    assert journal_lines(journal) == []  # nothing ran before the approval

    resumed = agent_process("resume", postgres_url, ollama, thread, journal, "--approve", "--decision", "run")
    result = finished(resumed)

    assert journal_lines(journal) == ["deploy"]
    assert result["answer"] == "Deployed."
    assert result["tools"] == ["append"]


def test_two_processes_one_after_the_other_continue_the_same_conversation(
    postgres_url, script, ollama, thread, tmp_path
):
    journal = tmp_path / "journal.txt"
    script.add_reply("First answer.")
    script.add_reply("Second answer.")

    finished(agent_process("run", postgres_url, ollama, thread, journal, "--task", "First?"))
    second = finished(agent_process("run", postgres_url, ollama, thread, journal, "--task", "Second?", "--async"))

    assert second["messages"] == ["human: First?", "ai: First answer.", "human: Second?", "ai: Second answer."]
    sent = [m["content"] for m in script.requests[1]["messages"]]
    assert sent == ["First?", "First answer.", "Second?"]  # the second process's model saw the first turn


def test_two_processes_at_once_on_one_thread_run_one_after_the_other(postgres_url, script, ollama, thread, tmp_path):
    journal = tmp_path / "journal.txt"
    script.add_reply("First answer.")
    script.add_reply("Second answer.")
    first_call = ollama.hold(1)  # the first run is in its model call, holding the thread

    first = agent_process("run", postgres_url, ollama, thread, journal, "--task", "First?")
    assert first_call.wait(60)
    second = agent_process("run", postgres_url, ollama, thread, journal, "--task", "Second?", "--async")
    assert waits_for_the_thread(second, thread)
    ollama.release(answer=True)

    assert finished(first)["messages"] == ["human: First?", "ai: First answer."]
    result = finished(second)

    # Nothing lost, nothing interleaved: the second run waited for the first and continued after it.
    assert result["messages"] == ["human: First?", "ai: First answer.", "human: Second?", "ai: Second answer."]


def test_a_run_on_a_busy_thread_gives_up_with_thread_busy_and_a_killed_holder_frees_the_thread(
    postgres_url, script, ollama, thread, tmp_path
):
    journal = tmp_path / "journal.txt"
    script.add_reply("Second answer.")
    first_call = ollama.hold(1)
    first = agent_process("run", postgres_url, ollama, thread, journal, "--task", "First?")
    assert first_call.wait(60)

    second = agent_process("run", postgres_url, ollama, thread, journal, "--task", "Second?", "--lock-wait", "0.3")
    _, err = second.communicate(timeout=120)

    assert second.returncode != 0
    assert "ThreadBusy" in err and f"Thread {thread!r} is being run by another run" in err
    kill(first)  # PostgreSQL ends the dead process's session, and its thread lock with it
    third = finished(agent_process("run", postgres_url, ollama, thread, journal, "--task", "Third?"))
    assert third["answer"] == "Second answer."
