"""The screen in a real terminal (tmux) against a loopback server: the indicator, a resize mid-reply, parallel calls."""

import json
import re
import shutil

import pytest

from tests.cli.ollama_stub import OllamaStub, text_lines
from tests.cli.test_chat_tmux import CASTLING, TMUX, Terminal, terminal_env

pytestmark = pytest.mark.skipif(TMUX is None or not CASTLING.exists(), reason="needs tmux and the castling script")


def joined(terminal):
    """The whole session with the terminal's own wrapping undone (what the user could copy)."""
    return terminal._tmux("capture-pane", "-p", "-J", "-t", "chat", "-S", "-500").stdout


def at_prompt(terminal):
    return terminal.screen().rstrip().endswith(">>>")


def test_the_indicator_shows_while_the_model_is_silent_and_is_gone_after(tmp_path):
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(text_lines("qwen3:8b", ["Hello ", "there."]), first=3.0)
        terminal = Terminal(f"{CASTLING} chat --tools none --strategy tools", terminal_env(tmp_path, server.host))
        try:
            terminal.wait(lambda: at_prompt(terminal), "the prompt")
            terminal.keys("hi", "Enter")
            terminal.wait(lambda: "waiting for the model" in terminal.screen(), "the indicator", timeout=2.5)
            terminal.wait(lambda: "tok/s" in terminal.screen(), "the footer")
            screen = terminal.screen()
            assert "Hello there." in screen
            assert "waiting for the model" not in screen  # erased, not left above the answer
        finally:
            terminal.close()


def test_a_resize_mid_reply_neither_repeats_nor_loses_text_and_later_replies_fit(tmp_path):
    words = [f"t{i:03d} " for i in range(160)]
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(text_lines("qwen3:8b", words), delay=0.03)
        server.add(text_lines("qwen3:8b", [f"n{i:03d} " for i in range(60)]))
        terminal = Terminal(f"{CASTLING} chat --tools none --strategy tools", terminal_env(tmp_path, server.host))
        try:
            terminal.wait(lambda: at_prompt(terminal), "the prompt")
            terminal.keys("talk", "Enter")
            terminal.wait(lambda: "t070" in terminal.screen(), "the reply to be well under way")
            terminal._tmux("resize-window", "-t", "chat", "-x", "50")
            terminal.wait(lambda: "tok/s" in terminal.screen(), "the footer", timeout=15)
            session = joined(terminal)
            counts = {word.strip(): len(re.findall(rf"\b{word.strip()}\b", session)) for word in words}
            assert set(counts.values()) == {1}, {w: c for w, c in counts.items() if c != 1}

            terminal.keys("again", "Enter")
            terminal.wait(lambda: joined(terminal).count("tok/s") == 2, "the second footer")
            second = joined(terminal).split("again", 1)[1]
            reply_lines = [line for line in second.splitlines() if "n0" in line]
            assert reply_lines and max(len(line.rstrip()) for line in reply_lines) <= 50, reply_lines
        finally:
            terminal.close()


def calls(*codes):
    """One streamed chunk asking for several `run_python` calls at once, then the done line."""
    chunk = {
        "model": "qwen3:8b",
        "created_at": "2024-05-24T20:26:46Z",
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "run_python", "arguments": {"code": c}}} for c in codes],
        },
        "done": False,
    }
    return [json.dumps(chunk), text_lines("qwen3:8b", [])[-1]]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="the real python tool needs bubblewrap")
def test_parallel_results_are_paired_with_their_calls(tmp_path):
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(calls("print(6 * 7)", "print(6 * 9)"))
        server.add(text_lines("qwen3:8b", ["Both ", "ran."]))
        env = terminal_env(tmp_path, server.host)
        terminal = Terminal(f"{CASTLING} chat --tools python --approve none --strategy tools", env)
        try:
            terminal.wait(lambda: at_prompt(terminal), "the prompt")
            terminal.keys("two sums", "Enter")
            terminal.wait(lambda: "Both ran." in terminal.screen(), "the answer", timeout=20)
            screen = joined(terminal)
            assert '↳ run_python(code="print(6 * 7)") → 42' in screen
            assert '↳ run_python(code="print(6 * 9)") → 54' in screen
        finally:
            terminal.close()
