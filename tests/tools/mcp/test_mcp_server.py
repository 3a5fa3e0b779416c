"""`castling mcp` driven by the official MCP client, over stdio and over loopback HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from castling.agents.toolbox import Toolbox
from castling.tools import mcp
from castling.tools.mcp import McpToolError

CASTLING = str(Path(sys.executable).with_name("castling"))


def text(result) -> str:
    return "\n".join(block.text for block in result.content)


async def test_stdio_run_python_keeps_state_between_calls_and_offers_the_chosen_tools():
    server = StdioServerParameters(command=CASTLING, args=["mcp", "--tools", "python,fetch"])
    async with Client(server) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        assert names == ["run_python", "fetch"]
        await client.call_tool("run_python", {"code": "x = 41"})
        second = await client.call_tool("run_python", {"code": "x + 1"})
        assert text(second) == "[value]\n42"
        escaped = await client.call_tool("run_python", {"code": "open('/etc/shadow').read()"})
        assert "FileNotFoundError" in text(escaped)  # the sandbox holds over MCP too: no host /etc/shadow


async def test_fetch_over_mcp_keeps_refusing_private_addresses():
    server = StdioServerParameters(command=CASTLING, args=["mcp", "--tools", "fetch"])
    async with Client(server) as client:
        port = await client.call_tool("fetch", {"url": "http://127.0.0.1:9/admin"})
        loopback = await client.call_tool("fetch", {"url": "http://127.0.0.1/admin"})
    assert text(port).startswith("fetch refused: port 9 is not allowed")
    assert text(loopback).startswith("fetch refused:") and "127.0.0.1" in text(loopback)


def test_castling_client_uses_castling_server_both_ways():
    box = Toolbox([mcp([CASTLING, "mcp", "--tools", "python"])], default_timeout=None)
    try:
        box.run(box.check("run_python", {"code": "y = 6 * 7"}), None)
        assert box.run(box.check("run_python", {"code": "y"}), None).content == "[value]\n42"
    finally:
        box.close()


def test_an_unknown_tool_name_is_one_clear_line_and_status_2():
    done = subprocess.run([CASTLING, "mcp", "--tools", "python,shell"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "unknown tool(s) shell: choose from python, fetch, http_request" in done.stderr


@pytest.fixture
def http_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [CASTLING, "mcp", "--tools", "python", "--http", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"castling mcp --http did not listen: {process.communicate()[1].decode()}")
    yield f"http://127.0.0.1:{port}/mcp"
    process.terminate()
    process.communicate(timeout=30)


async def test_http_sessions_each_keep_their_own_interpreter(http_server):
    async with Client(http_server, mode="legacy") as first, Client(http_server, mode="legacy") as second:
        await first.call_tool("run_python", {"code": "secret = 'first'"})
        assert text(await first.call_tool("run_python", {"code": "secret"})) == "[value]\n'first'"
        other = text(await second.call_tool("run_python", {"code": "secret"}))
        assert "NameError" in other  # another client's session cannot see the first one's state


def test_castling_client_over_streamable_http_with_headers(http_server):
    box = Toolbox([mcp(url=http_server, headers={"X-Castling-Test": "1"})], default_timeout=None)
    try:
        assert box.names == ["run_python"]
        box.run(box.check("run_python", {"code": "z = 5"}), None)
        assert box.run(box.check("run_python", {"code": "z * 2"}), None).content == "[value]\n10"
    finally:
        box.close()


def test_headers_reach_the_server_whose_origin_check_refuses_a_foreign_origin(http_server):
    with pytest.raises(McpToolError, match=r"could not start the MCP server http://127\.0\.0\.1.*: MCPError: "):
        Toolbox([mcp(url=http_server, headers={"Origin": "http://evil.example"})], default_timeout=None)
    with pytest.raises(McpToolError, match=r"could not start the MCP server http://127\.0\.0\.1:1/mcp: ConnectError"):
        Toolbox([mcp(url="http://127.0.0.1:1/mcp")], default_timeout=None)
