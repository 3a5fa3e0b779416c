"""Server notifications reach the agent: a changed tool list, progress; and Ctrl-C in a sync run reaches the server."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

import pytest

from castling import Agent, Qwen
from castling.agents.toolbox import Toolbox
from castling.testing import ScriptedOllama
from castling.tools import mcp


def test_a_changed_tool_list_is_what_the_next_model_call_sees(counter_command):
    model = ScriptedOllama("qwen3:8b")
    model.add_reply(tool_calls=[("grow", {"name": "shout"})])  # the server adds `shout` and notifies
    model.add_reply(tool_calls=[("shout", {"text": "hi"})])
    model.add_reply("It said hi.")
    with Agent(Qwen("qwen3:8b", transport=model.transport), tools=[mcp(counter_command)]) as agent:
        result = agent.run("grow a tool and use it")
    offered = [{tool["function"]["name"] for tool in request["tools"]} for request in model.requests]
    assert "shout" not in offered[0]
    assert "shout" in offered[1] and "shout" in offered[2]
    assert [call.result for call in result.tool_calls] == ["added shout", "shout says hi"]


def test_the_changed_list_keeps_the_agents_choice_of_tools(counter_command):
    box = Toolbox([mcp(counter_command, deny=["pid"], prefix="c_")], default_timeout=None)
    try:
        assert box.run(box.check("c_grow", {"name": "echo"}), None).content == "added echo"  # type: ignore[arg-type]
        names = {tool["function"]["name"] for tool in box.wire}
        assert "c_echo" in names and "c_pid" not in names and "echo" not in names
        assert box.run(box.check("c_echo", {"text": "hi"}), None).content == "echo says hi"  # type: ignore[arg-type]
    finally:
        box.close()


def test_progress_notifications_are_logged_as_they_arrive(counter_command, caplog):
    box = Toolbox([mcp(counter_command)], default_timeout=None)
    try:
        with caplog.at_level(logging.INFO, logger="castling.tools.mcp"):
            outcome = box.run(box.check("steps", {"count": 3}), None)  # type: ignore[arg-type]
    finally:
        box.close()
    assert outcome.content == "did 3 steps"
    progress = [r.getMessage() for r in caplog.records if "progress" in r.getMessage()]
    server = " ".join(counter_command)
    assert progress == [f"MCP tool steps on `{server}`: progress {n}/3 (step {n})" for n in (1, 2, 3)]


def test_ctrl_c_in_a_sync_run_cancels_the_request_on_the_server(counter_command, tmp_path: Path):
    marker = tmp_path / "marker"
    box = Toolbox([mcp(counter_command)], default_timeout=None)
    main = threading.get_ident()

    def press_ctrl_c_once_the_call_runs() -> None:
        for _ in range(600):
            if marker.exists() and marker.read_text() == "started":
                signal.pthread_kill(main, signal.SIGINT)
                return
            time.sleep(0.05)

    try:
        threading.Thread(target=press_ctrl_c_once_the_call_runs, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            box.specs["slow"].tool.invoke({"seconds": 60, "marker": str(marker)})
        assert box.run(box.check("bump", {"by": 2}), None).content == "count=2"  # type: ignore[arg-type]
        assert marker.read_text() == "cancelled"  # the server saw the cancel before it answered bump
    finally:
        box.close()


def test_ctrl_c_in_agent_run_cancels_the_mcp_request_on_the_server(counter_command, tmp_path: Path):
    marker = tmp_path / "marker"
    model = ScriptedOllama("qwen3:8b")
    model.add_reply(tool_calls=[("slow", {"seconds": 60, "marker": str(marker)})])
    model.add_reply("unreachable")
    main = threading.get_ident()

    def press_ctrl_c_once_the_call_runs() -> None:
        for _ in range(600):
            if marker.exists() and marker.read_text() == "started":
                signal.pthread_kill(main, signal.SIGINT)
                return
            time.sleep(0.05)

    with Agent(Qwen("qwen3:8b", transport=model.transport), tools=[mcp(counter_command)]) as agent:
        threading.Thread(target=press_ctrl_c_once_the_call_runs, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            agent.run("sleep a minute")
        for _ in range(200):  # the cancel travels to the server's process: wait for it to say so
            if marker.read_text() == "cancelled":
                break
            time.sleep(0.05)
        assert marker.read_text() == "cancelled"
