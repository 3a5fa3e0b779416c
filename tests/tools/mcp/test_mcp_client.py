"""`mcp(...)` against a real MCP server process (written with the SDK, run over stdio)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from castling import Agent, Qwen
from castling.agents.toolbox import ManyToolsWarning, Toolbox
from castling.errors import ConfigError
from castling.testing import ScriptedOllama
from castling.tools import mcp
from castling.tools.mcp import McpToolError

from .conftest import COUNTER_SERVER, pid_alive


@pytest.fixture
def toolbox(counter_command):
    box = Toolbox([mcp(counter_command, timeout=3)], default_timeout=None)
    yield box
    box.close()


def call(box: Toolbox, name: str, arguments: dict) -> object:
    checked = box.check(name, box.coerce(name, arguments))
    assert not hasattr(checked, "error"), checked
    return box.run(checked, None)


def test_agent_calls_mcp_tools_with_coerced_arguments_and_one_stateful_session(counter_command):
    model = ScriptedOllama("qwen3:8b")
    model.add_reply(tool_calls=[("bump", {"by": "10"})])  # small models send integers as strings
    model.add_reply(tool_calls=[("bump", {"by": 5})])
    model.add_reply("The counter is at 15.")
    with Agent(Qwen("qwen3:8b", transport=model.transport), tools=[mcp(counter_command)]) as agent:
        result = agent.run("bump it")
    assert [call.result for call in result.tool_calls] == ["count=10", "count=15"]
    assert result.answer == "The counter is at 15."
    offered = {tool["function"]["name"] for tool in model.requests[0]["tools"]}
    assert offered == {"bump", "pid", "slow", "crash", "fail", "area", "grow", "steps"}


def test_nested_model_and_nullable_arguments_reach_the_model_whole_and_the_server_coerced(toolbox):
    parameters = toolbox.specs["area"].parameters
    text = json.dumps(parameters)
    assert "$ref" not in text and "$defs" not in text and "null" not in text and "title" not in text
    box = parameters["properties"]["box"]
    assert box["properties"]["corner"]["properties"]["x"] == {"type": "integer"}
    assert box["properties"]["label"] == {"type": "string", "description": "a name for the box"}
    assert parameters["properties"]["scale"] == {"type": "number"}
    outcome = call(toolbox, "area", {"box": '{"corner": {"x": "1", "y": 2}, "size": {"x": 3, "y": "4"}}', "scale": "2"})
    assert outcome.error is None
    assert json.loads(outcome.content) == {"area": 24.0, "corner": [1, 2]}


def test_a_hundred_calls_share_one_session_and_one_process(toolbox):
    pids = {call(toolbox, "pid", {}).content for _ in range(3)}
    for _ in range(100):
        last = call(toolbox, "bump", {"by": 1})
    assert last.content == "count=100"
    assert len(pids) == 1
    assert call(toolbox, "pid", {}).content in pids
    assert toolbox.tool_sets[0].connection.starts == 1


def test_a_crash_mid_call_is_a_clear_tool_error_and_the_next_call_restarts_the_server(toolbox):
    call(toolbox, "bump", {"by": 7})
    first_pid = int(call(toolbox, "pid", {}).content)
    crashed = call(toolbox, "crash", {})
    assert crashed.error is not None
    assert "closed the connection during the call to crash" in crashed.error
    assert "about to crash: goodbye" in crashed.error  # the server's own last words
    assert "started again on the next call" in crashed.error
    assert call(toolbox, "bump", {"by": 1}).content == "count=1"  # a fresh server: state reset, said so above
    assert int(call(toolbox, "pid", {}).content) != first_pid
    assert not pid_alive(first_pid)


def test_a_server_error_is_a_tool_error_with_its_message(toolbox):
    outcome = call(toolbox, "fail", {"reason": "the disk is on fire"})
    assert outcome.error is not None
    assert "the MCP tool fail reported an error" in outcome.error and "the disk is on fire" in outcome.error
    assert call(toolbox, "bump", {}).content == "count=1"  # the session survived


def test_a_call_past_the_timeout_is_cancelled_on_the_server(toolbox, tmp_path):
    marker = tmp_path / "cancelled"
    outcome = call(toolbox, "slow", {"seconds": 60, "marker": str(marker)})
    assert outcome.error is not None and "did not answer within 3 s" in outcome.error
    assert call(toolbox, "bump", {}).content == "count=1"  # same session, still usable
    assert marker.read_text() == "cancelled"  # the server had seen the cancel before it answered bump


async def test_cancelling_the_caller_cancels_the_request_on_the_server(counter_command, tmp_path):
    box = Toolbox([mcp(counter_command)], default_timeout=None)
    try:
        marker = tmp_path / "cancelled"
        slow = box.specs["slow"].tool
        task = asyncio.create_task(slow.ainvoke({"seconds": 60, "marker": str(marker)}))
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        bump = box.specs["bump"].tool
        assert await bump.ainvoke({"by": 2}) == "count=2"
        assert marker.read_text() == "cancelled"
    finally:
        await box.aclose()


def test_allow_and_deny_pick_tools_and_an_unknown_name_says_which_exist(counter_command):
    box = Toolbox(
        [mcp(counter_command, allow=["bump", "pid"]), mcp(counter_command, deny=["crash"], prefix="b_")],
        default_timeout=None,
    )
    try:
        assert box.names == ["bump", "pid", "b_bump", "b_pid", "b_slow", "b_fail", "b_area", "b_grow", "b_steps"]
        assert call(box, "b_bump", {"by": 3}).content == "count=3"
        assert call(box, "bump", {}).content == "count=1"  # two servers, two sessions
    finally:
        box.close()
    with pytest.raises(ConfigError, match=r"no tool named 'bumpp'.*Its tools: bump, pid, slow, crash, fail, area"):
        Toolbox([mcp(counter_command, allow=["bumpp"])], default_timeout=None)


def test_a_server_that_cannot_start_fails_the_agent_build_with_the_reason(tmp_path):
    with pytest.raises(McpToolError, match=r"could not start the MCP server `/no/such/server --flag`: .*No such file"):
        Toolbox([mcp("/no/such/server --flag")], default_timeout=None)
    script = tmp_path / "broken.py"
    script.write_text("import sys\nprint('missing API key FOO', file=sys.stderr)\nsys.exit(2)\n")
    with pytest.raises(McpToolError, match=r"could not start the MCP server .*missing API key FOO"):
        Toolbox([mcp([COUNTER_SERVER[0], str(script)])], default_timeout=None)


def test_bad_arguments_to_mcp_say_what_to_do():
    with pytest.raises(ConfigError, match="exactly one of a command"):
        mcp()
    with pytest.raises(ConfigError, match="must be an http"):
        mcp(url="ftp://example.com/mcp")
    with pytest.raises(ConfigError, match="headers= apply to a url= server"):
        mcp("server", headers={"a": "b"})


def test_more_than_twenty_tools_warn_with_the_count_and_the_tokens(counter_command):
    with pytest.warns(ManyToolsWarning, match=r"offers 33 tools, whose schemas take about [\d,]+ tokens") as caught:
        box = Toolbox([mcp([*counter_command, "--tools", "25"])], default_timeout=None)
    box.close()
    assert "allow=" in str(caught[0].message)
    Toolbox([mcp([*counter_command, "--tools", "25"], allow=["bump"])], default_timeout=None).close()  # no warning


def test_env_and_cwd_reach_the_server_process(tmp_path):
    script = Path(__file__).with_name("counter_server.py")
    box = Toolbox(
        [mcp([COUNTER_SERVER[0], str(script)], env={"CASTLING_TEST": "1"}, cwd=str(tmp_path))], default_timeout=None
    )
    try:
        pid = int(call(box, "pid", {}).content)
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert b"CASTLING_TEST=1" in environ
        assert Path(f"/proc/{pid}/cwd").resolve() == tmp_path.resolve()
    finally:
        box.close()
    assert not pid_alive(pid)


SHUTDOWN_SCRIPT = """
import sys, warnings
from castling.agents.toolbox import Toolbox
from castling.tools import mcp
box = Toolbox([mcp({command!r})], default_timeout=None)
print(box.run(box.check("pid", {{}}), None).content, flush=True)
{ending}
"""


@pytest.mark.parametrize("ending", ["box.close()", "pass  # never closed: the atexit hook must do it"])
def test_shutdown_is_clean_with_warnings_as_errors_and_leaves_no_server(ending):
    import subprocess
    import sys

    script = SHUTDOWN_SCRIPT.format(command=COUNTER_SERVER, ending=ending)
    done = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no ResourceWarning, no "exit cancel scope in a different task", no traceback
    assert not pid_alive(int(done.stdout))


def test_from_castling_tools_import_mcp_is_callable_even_after_the_server_module_was_imported():
    import subprocess
    import sys

    script = "import castling.tools.mcp.server\nfrom castling.tools import mcp\nprint(mcp(url='http://127.0.0.1:1/mcp').spec.url)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "http://127.0.0.1:1/mcp", done.stderr
