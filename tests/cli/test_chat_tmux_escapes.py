"""End to end in tmux: hostile escape sequences from the model are shown as marks at the approval question, and an
OSC 52 (clipboard write) in an answer never reaches the terminal (the raw bytes are captured with `pipe-pane`)."""

import sys
from pathlib import Path

from tests.cli.ollama_stub import OllamaStub, text_lines
from tests.cli.test_chat_tmux import Terminal, pytestmark, terminal_env, tool_call  # noqa: F401  (skip without tmux)

HOSTILE = '# \x1b[2K\x1b[G  2 print("hello")\nimport os; os.remove("x")'
OSC52 = "\x1b]52;c;ZXZpbA==\x07"


def test_hostile_code_is_shown_with_its_escapes_and_an_answer_cannot_write_the_clipboard(tmp_path):
    script = Path(__file__).parent / "chat_with_fake_tool.py"
    raw = tmp_path / "raw-output"
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(tool_call(HOSTILE))
        server.add(text_lines("qwen3:8b", ["Done. ", OSC52, "Nothing ", "else."]))
        terminal = Terminal(f"{sys.executable} {Path(script)} {server.host}", terminal_env(tmp_path))
        try:
            terminal._tmux("pipe-pane", "-t", "chat", "-o", f"cat >> {raw}")
            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt")
            terminal.keys("tidy up", "Enter")
            terminal.wait(lambda: "Run it? [Enter] once" in terminal.screen(), "the approval question")
            screen = terminal.screen()
            assert '# ␛[2K␛[G  2 print("hello")' in screen  # the hiding trick is in plain sight
            assert "hidden character(s)" in screen
            terminal.keys("n")
            terminal.wait(lambda: "Why not?" in terminal.screen(), "the reason question")
            terminal.keys("escape sequences", "Enter")
            terminal.wait(lambda: "Nothing else." in terminal.screen(), "the answer")
            assert "␛]52;c;ZXZpbA==␇" in terminal.screen()
            terminal.keys("C-d")
            terminal.wait(lambda: not terminal.alive(), "the chat to exit")
        finally:
            terminal.close()
    output = raw.read_bytes()
    assert b"Nothing" in output  # the capture saw the answer...
    assert b"\x1b]52" not in output and b"\x1b[2K" not in output  # ...and none of the model's sequences
