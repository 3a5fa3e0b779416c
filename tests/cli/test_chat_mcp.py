"""`castling chat --mcp COMMAND` and `--mcp-config FILE`: MCP tools in the chat, asking first by default."""

import json

from castling.testing import ScriptedOllama
from tests.cli.chatdriver import Chat
from tests.tools.mcp.conftest import COUNTER_SERVER

COMMAND = " ".join(COUNTER_SERVER)


async def test_mcp_tools_are_on_ask_first_and_listed_by_server():
    chat = Chat(ScriptedOllama(), mcp=[COMMAND])
    assert await chat.run("/tools\r", "/exit\r") == 0
    assert "bump (ask)" in chat.text and "area (ask)" in chat.text  # the greeting
    assert f"on  bump         approval: ask  (MCP: `{COMMAND}`)" in chat.text


async def test_a_config_file_in_the_mcpServers_shape_runs_its_tools_with_approval_off(tmp_path):
    config = tmp_path / "mcp.json"
    servers = {"counter": {"command": COUNTER_SERVER[0], "args": COUNTER_SERVER[1:]}, "off": {"disabled": True}}
    config.write_text(json.dumps({"mcpServers": servers}))
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("bump", {"by": "4"})])
    server.add_reply("It is 4.")
    chat = Chat(server, mcp_config=str(config), approve="none")
    assert await chat.run("count\r", "/exit\r") == 0
    assert "count=4" in chat.text and "It is 4." in chat.text


async def test_a_broken_config_or_server_is_one_line_before_the_prompt(tmp_path):
    config = tmp_path / "mcp.json"
    config.write_text('{"mcpServers": {"x": {"args": []}}}')
    chat = Chat(ScriptedOllama(), mcp_config=str(config))
    assert await chat.run() == 1
    assert chat.text == f"error: server 'x' in {config} has neither a command nor a url.\n"
    chat = Chat(ScriptedOllama(), mcp=["/no/such/mcp-server"])
    assert await chat.run() == 1
    assert chat.text.startswith("error: could not start the MCP server `/no/such/mcp-server`")


def test_config_servers_keep_their_config_names_for_scenario_recordings(tmp_path):
    from castling.cli.mcp_servers import chat_servers

    config = tmp_path / "mcp.json"
    entries = {
        "counter": {"command": COUNTER_SERVER[0], "args": COUNTER_SERVER[1:]},
        "api": {"url": "http://127.0.0.1:9/mcp"},
    }
    config.write_text(json.dumps({"mcpServers": entries}))
    servers = chat_servers([COMMAND], str(config))  # nothing is started until an agent opens them
    assert [server.key for server in servers] == [f"`{COMMAND}`", "counter", "api"]
