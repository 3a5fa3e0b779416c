"""Start-up: the agent runtime (langgraph) loads in the background; the prompt and commands work meanwhile."""

import asyncio
import subprocess
import sys

import castling.cli.chat as chat_module
from tests.cli.chatdriver import Chat


async def test_commands_work_before_the_runtime_has_loaded_and_the_first_turn_waits_for_it(chat, server, monkeypatch):
    gate = {}

    def held_import():
        gate["future"] = asyncio.get_running_loop().create_future()
        return gate["future"]

    monkeypatch.setattr(chat_module, "_import_runtime", held_import)
    server.add_reply("Hello after loading.")
    seen_before_release = {}

    async def release_after_help():
        while "/save PATH" not in chat.text:  # /help was answered while the runtime was still "loading"
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        seen_before_release["requests"] = len(server.requests)
        gate["future"].set_result(None)

    releaser = asyncio.create_task(release_after_help())
    await chat.run("/help\r", "hi\r", "/exit\r")
    await releaser
    assert "castling chat · qwen3:8b · strategy tools" in chat.text  # the greeting needs no agent
    assert seen_before_release["requests"] == 0  # the turn waited for the runtime
    assert "Hello after loading." in chat.text
    assert server.requests[0]["messages"][-1]["content"] == "hi"


async def test_a_configuration_error_is_still_reported_before_the_prompt(server):
    chat = Chat(server, backbone="nosuch")
    assert await chat.run() == 1
    assert "error: Unknown backbone 'nosuch'" in chat.text


def test_importing_the_chat_does_not_import_langgraph():
    code = (
        "import sys, castling.cli.chat; print(sorted(m for m in ('langgraph', 'langchain_core') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout.strip() == "[]"
