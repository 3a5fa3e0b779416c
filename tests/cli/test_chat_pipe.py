"""`castling chat | head`: the reader leaving early ends the chat quietly, without a traceback."""

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.ollama_stub import OllamaStub, text_lines

CASTLING = Path(sys.executable).parent / "castling"


def test_a_reader_that_leaves_early_ends_the_chat_without_a_traceback(tmp_path):
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(text_lines("qwen3:8b", [f"line{i}\n\n" for i in range(300)]), delay=0.001)
        env = {**os.environ, "OLLAMA_HOST": server.host, "CASTLING_DATA_DIR": str(tmp_path / "data")}
        done = subprocess.run(
            f"printf 'hello\\n' | {CASTLING} chat --tools none --strategy tools | head -3",
            shell=True,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert "line0" in done.stdout
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
