"""`castling serve`'s start-up hint is a chat command whose requests match the served file (strict matching)."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

from castling.scenarios.serve import ReplayServer, describe
from castling.testing import ScriptedOllama
from tests.cli.chatdriver import Chat

CASTLING = Path(sys.executable).parent / "castling"
JOKE = "Why did the sandbox go to therapy? It had too many boundaries."


async def test_the_hinted_chat_command_replays_the_served_file_without_diverging(tmp_path):
    scripted = ScriptedOllama("qwen3:8b")
    scripted.add_reply(JOKE)
    served = tmp_path / "served.yaml"
    first = Chat(scripted, think=False, options={"num_ctx": 8192})  # not the chat's defaults
    await first.run("tell me a joke\r", f"/save {served}\r", "/exit\r")

    server = ReplayServer(served, port=0).start()
    try:
        hint = describe(server).split("try: ", 1)[1].split("  ·  ")[0]
        assert hint.startswith(f"OLLAMA_HOST={server.url} castling chat ")
        flags = shlex.split(hint.split("castling chat ", 1)[1])
        env = {**os.environ, "OLLAMA_HOST": server.url, "CASTLING_DATA_DIR": str(tmp_path / "data")}
        done = subprocess.run(
            [str(CASTLING), "chat", *flags],
            input="tell me a joke\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert JOKE in done.stdout, done.stdout + done.stderr
    assert "error" not in done.stdout, done.stdout
