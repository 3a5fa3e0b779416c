"""`/save PATH`: a chat conversation written as a scenario file that replays."""

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from castling.scenarios.runner import run_file
from castling.scenarios.store import load
from tests.cli.chatdriver import Chat

CASTLING = Path(sys.executable).parent / "castling"
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="the python tool's sandbox needs bubblewrap")


async def test_a_two_turn_conversation_is_saved_and_replays_with_the_agent(chat, server, tmp_path):
    server.add_reply("Paris is the capital of France.")
    server.add_reply("About 2.1 million people live in Paris.")
    target = tmp_path / "saved" / "paris.yaml"
    await chat.run("capital of France?\r", "and its population?\r", f"/save {target}\r", "/exit\r")

    assert f"saved 2 model turn(s), 2 user turn(s), source constructed to {target}" in chat.text
    scenario = load(target)
    assert scenario.task == "capital of France?"
    assert scenario.user_turns == ["and its population?"]
    assert scenario.agent.runner == "agent"
    assert scenario.agent.model == "qwen3:8b"
    assert scenario.recording.source == "constructed"  # a scripted server answered, not a model
    assert [t.summary.content for t in scenario.model_turns] == [
        "Paris is the capital of France.",
        "About 2.1 million people live in Paris.",
    ]
    # the second request carried the first exchange: the recording is the conversation as sent
    assert [m["content"] for m in scenario.model_turns[1].request.body["messages"]][-3:] == [
        "capital of France?",
        "Paris is the capital of France.",
        "and its population?",
    ]
    report = run_file(target)
    assert report.status == "passed", report.message()
    assert report.outcome.final_answer == "About 2.1 million people live in Paris."
    assert report.outcome.steps == 2


async def test_saved_session_replays_with_castling_replay(chat, server, tmp_path):
    server.add_reply("Hello there.")
    target = tmp_path / "hello.yaml"
    await chat.run("hi\r", f"/save {target}\r", "/exit\r")
    done = subprocess.run([str(CASTLING), "replay", str(target)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hello" in done.stdout


async def test_replay_of_a_saved_session_fails_when_the_agent_changes(chat, server, tmp_path):
    server.add_reply("Hello there.")
    target = tmp_path / "hello.yaml"
    await chat.run("hi\r", f"/save {target}\r", "/exit\r")
    text = target.read_text()
    assert "\nagent:\n" in text and "system:" not in text  # no system prompt: v2 leaves the field out
    text = text.replace("\nagent:\n", "\nagent:\n  system: Be terse.\n", 1)
    target.write_text(text)
    report = run_file(target)
    assert report.status == "diverged"
    assert "system prompt" in report.message()


async def test_only_the_current_conversation_is_saved(chat, server, tmp_path):
    server.add_reply("First conversation.")
    server.add_reply("Second conversation.")
    target = tmp_path / "second.yaml"
    await chat.run("one\r", "/new\r", "two\r", f"/save {target}\r", "/exit\r")
    scenario = load(target)
    assert scenario.task == "two" and scenario.user_turns == []
    assert [t.summary.content for t in scenario.model_turns] == ["Second conversation."]
    assert run_file(target).status == "passed"


@needs_bwrap
async def test_a_rejected_call_is_saved_for_wire_replay_and_says_why(server, tmp_path):
    server.add_reply(tool_calls=[("run_python", {"code": "import os; os.remove('x')"})])
    server.add_reply("Understood, I will not delete it.")
    chat = Chat(server, tools="run_python")
    (tmp_path / "x").write_text("keep me")
    target = tmp_path / "rejected.yaml"
    await chat.run("delete x\r", "n", "do not delete files\r", f"/save {target}\r", "/exit\r")
    assert "wire replay only, because a run_python call was rejected" in chat.text
    scenario = load(target)
    assert scenario.agent.runner == "wire"
    assert "rejected" in scenario.description
    assert run_file(target).status == "passed"
    assert (tmp_path / "x").exists()


async def test_save_before_any_reply_says_there_is_nothing(chat, tmp_path):
    await chat.run(f"/save {tmp_path / 'x.yaml'}\r", "/exit\r")
    assert "nothing to save yet" in chat.text
    assert not (tmp_path / "x.yaml").exists()


async def test_help_says_what_save_does(chat):
    await chat.run("/help\r", "/exit\r")
    assert "/save PATH" in chat.text and "replays at the wire only" in chat.text


@needs_bwrap
async def test_a_session_with_the_real_python_tool_replays_by_running_the_code_again(server, tmp_path):
    server.add_reply(tool_calls=[("run_python", {"code": "print(6 * 7)"})])
    server.add_reply("The answer is 42.")
    chat = Chat(server, tools="run_python")
    target = tmp_path / "code.yaml"
    await chat.run("what is 6*7? use python\r", "\r", f"/save {target}\r", "/exit\r")
    assert "the agent replays it" in chat.text
    scenario = load(target)
    assert scenario.agent.tools == ["python"]
    assert [(c.input, c.output) for c in scenario.code_exec] == [({"code": "print(6 * 7)"}, "[stdout]\n42")]
    assert run_file(target).status == "passed"

    # The replay really runs the code: make the recorded call compute something else and the next request
    # (which carries the tool's output) no longer matches the recording.
    target.write_text(target.read_text().replace("print(6 * 7)", "print(6 * 8)"))
    report = run_file(target)
    assert report.status == "diverged"
    assert "48" in report.message()


async def test_settings_changed_between_turns_give_a_wire_scenario(chat, server, tmp_path):
    server.add_reply("One.")
    server.add_reply("Two.")
    target = tmp_path / "changed.yaml"
    await chat.run("first\r", "/set temperature 0.5\r", "second\r", f"/save {target}\r", "/exit\r")
    assert "because the settings changed between turns" in chat.text
    scenario = load(target)
    assert scenario.agent.runner == "wire"
    assert scenario.model_turns[1].request.body["options"]["temperature"] == 0.5
    assert run_file(target).status == "passed"


async def test_a_resumed_session_saves_the_turns_recorded_since(server, tmp_path):
    server.add_reply("Before.")
    server.add_reply("After.")
    await Chat(server).run("before\r", "/exit\r")
    resumed = Chat(server, resume="")
    target = tmp_path / "resumed.yaml"
    await resumed.run("after\r", f"/save {target}\r", "/exit\r")
    assert "the session was resumed: its first 1 turn(s) were not recorded" in resumed.text
    scenario = load(target)
    assert scenario.task == "after" and scenario.agent.runner == "wire"
    # the one recorded request still carries the whole conversation
    assert [m["content"] for m in scenario.model_turns[0].request.body["messages"]][-3:] == [
        "before",
        "Before.",
        "after",
    ]
    assert run_file(target).status == "passed"


async def test_the_fetch_tools_traffic_is_saved_and_replayed(server, tmp_path, monkeypatch):
    import httpx

    import castling.tools

    real_fetch = castling.tools.fetch
    pages = []

    def web(request):
        pages.append(str(request.url))
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(200, headers={"content-type": "text/plain"}, text="Example Domain, for examples.")

    def offline_fetch(transport=None, **settings):
        # the chat passes its recorder as a wrapper; here it wraps a fake web instead of the real network
        network = httpx.MockTransport(web)
        return real_fetch(transport=transport(network) if transport else network, **settings)

    monkeypatch.setattr(castling.tools, "fetch", offline_fetch)
    server.add_reply(tool_calls=[("fetch", {"url": "https://example.org/"})])
    server.add_reply("The page says: Example Domain.")
    chat = Chat(server, tools="fetch")
    target = tmp_path / "web.yaml"
    await chat.run("what is on example.org?\r", f"/save {target}\r", "/exit\r")
    assert "the agent replays it" in chat.text
    assert "https://example.org/" in pages

    scenario = load(target)
    assert [e.request.url for e in scenario.tool_http][-1] == "https://example.org/"
    assert "Example Domain" in scenario.tool_http[-1].response.body
    monkeypatch.setattr(castling.tools, "fetch", real_fetch)  # replay: the real tool, fed from the file
    pages.clear()
    report = await asyncio.to_thread(run_file, target)  # the sync runner drives the async tool in its own loop
    assert report.status == "passed", report.message()
    assert pages == []  # nothing went to the (fake) web: the recording answered


async def test_saving_over_a_scenario_keeps_its_expectations_and_never_a_foreign_file(chat, server, tmp_path):
    server.add_reply("Hello there.")
    target = tmp_path / "hello.yaml"
    target.write_text(
        "schema_version: 1\nid: hello\ntask: hi\nrecording: {source: constructed}\n"
        "expectations:\n- final_answer: {contains: Hello}\n"
    )
    notes = tmp_path / "notes.yaml"
    notes.write_text("- just a list\n")
    await chat.run("hi\r", f"/save {target}\r", f"/save {notes}\r", "/exit\r")
    assert "kept the 1 expectation(s) of the existing file" in chat.text
    assert [e.final_answer.contains for e in load(target).expectations] == ["Hello"]
    assert len(load(target).model_turns) == 1
    assert "exists and is not a scenario file, so it was left alone" in chat.text
    assert notes.read_text() == "- just a list\n"


async def test_a_session_whose_last_turn_failed_is_saved_without_no_error_and_passes_its_replay(chat, server, tmp_path):
    server.add_error(500, "model runner crashed")
    target = tmp_path / "failed.yaml"
    await chat.run("explain\r", f"/save {target}\r", "/exit\r")
    assert not any(e.no_error for e in load(target).expectations)
    assert run_file(target).status == "passed"
