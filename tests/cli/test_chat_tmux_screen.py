"""The screen in a real terminal (tmux) against a loopback server: the indicator, a resize mid-reply, parallel calls."""

import fcntl
import json
import os
import re
import shutil
import struct
import termios
from pathlib import Path

import pytest

from castling.cli.render import SPINNER
from tests.cli.ollama_stub import OllamaStub, text_lines
from tests.cli.test_chat_tmux import CASTLING, TMUX, Terminal, terminal_env

pytestmark = pytest.mark.skipif(TMUX is None or not CASTLING.exists(), reason="needs tmux and the castling script")
HANG = 60.0
"""Seconds before a wait gives up: only a guard against a hang (each wait is for something on the screen), far
above what a loaded machine needs, so it is never what decides a run."""


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


def pane_columns(terminal):
    """The width the chat's terminal (the pane's pty) reports now: what the chat reads at its next render."""
    tty = terminal._tmux("display-message", "-p", "-t", "chat", "#{pane_tty}").stdout.strip()
    fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY)
    try:
        _, columns, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8)))
    finally:
        os.close(fd)
    return columns


def test_a_resize_mid_reply_neither_repeats_nor_loses_text_and_later_replies_fit(tmp_path):
    # The resize comes at a known point of the reply, not at a moment: after its first piece, 125 words (a
    # block's first piece is drawn at once: 7 rows at 100 columns, 1 settled, 6 in the repainted tail), the reply
    # pauses, so the chat has drawn all it got and writes nothing; the other 75 words come once the terminal
    # reports 50 columns. A resize landing between the chat reading the width and the terminal drawing that
    # repaint shows the tail twice, which the chat cannot know and no wait can rule out (cli/README.md).
    words = [f"t{i:03d} " for i in range(200)]
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(text_lines("qwen3:8b", ["".join(words[:125]), *words[125:]]), delay=0.01, pause_after=1)
        server.add(text_lines("qwen3:8b", [f"n{i:03d} " for i in range(60)]))
        terminal = Terminal(f"{CASTLING} chat --tools none --strategy tools", terminal_env(tmp_path, server.host))
        try:
            terminal.wait(lambda: at_prompt(terminal), "the prompt", timeout=HANG)
            terminal.keys("talk", "Enter")
            terminal.wait(lambda: "t124" in terminal.screen(), "the reply's first piece", timeout=HANG)
            assert server.paused.wait(HANG) and "tok/s" not in terminal.screen()  # mid-reply, held there
            terminal._tmux("resize-window", "-t", "chat", "-x", "50")
            terminal.wait(lambda: pane_columns(terminal) == 50, "the terminal to report 50 columns", timeout=HANG)
            server.go_on()
            terminal.wait(lambda: "tok/s" in terminal.screen(), "the footer", timeout=HANG)
            session = joined(terminal)
            counts = {word.strip(): len(re.findall(rf"\b{word.strip()}\b", session)) for word in words}
            assert set(counts.values()) == {1}, {w: c for w, c in counts.items() if c != 1}

            terminal.keys("again", "Enter")
            terminal.wait(lambda: joined(terminal).count("tok/s") == 2, "the second footer", timeout=HANG)
            second = joined(terminal).split("again", 1)[1]
            reply_lines = [line for line in second.splitlines() if "n0" in line]
            assert reply_lines and max(len(line.rstrip()) for line in reply_lines) <= 50, reply_lines
        finally:
            terminal.close()


def test_an_exported_columns_does_not_override_the_real_terminal_width(tmp_path):
    # A user's shell may export COLUMNS (and LINES); the pane is narrower. The reply must wrap at the pane's 50
    # columns, not at COLUMNS=80 (lines of 80 drawn into 50 columns wrap twice and break every repaint).
    env = {**terminal_env(tmp_path), "COLUMNS": "80", "LINES": "24"}
    words = [f"c{i:03d} " for i in range(120)]
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(text_lines("qwen3:8b", words), delay=0.005)
        env["OLLAMA_HOST"] = server.host
        terminal = Terminal(f"{CASTLING} chat --tools none --strategy tools", env, columns=50)
        try:
            terminal.wait(lambda: at_prompt(terminal), "the prompt", timeout=HANG)
            assert pane_columns(terminal) == 50
            terminal.keys("talk", "Enter")
            terminal.wait(lambda: "tok/s" in terminal.screen(), "the footer", timeout=HANG)
            session = joined(terminal)  # the terminal's own wrapping undone: a line drawn 80 wide shows as 80
            reply_lines = [line for line in session.splitlines() if "c0" in line or "c1" in line]
            assert reply_lines and max(len(line.rstrip()) for line in reply_lines) <= 50, reply_lines
            counts = {w.strip(): len(re.findall(rf"\b{w.strip()}\b", session)) for w in words}
            assert set(counts.values()) == {1}, {w: c for w, c in counts.items() if c != 1}
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


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="the real python tool needs bubblewrap")
def test_a_plan_run_against_castling_serve_shows_what_it_waits_for_and_each_step(tmp_path):
    """The library's Llama plan file served by a real `castling serve` (strict, paced), driven by the hinted command."""
    from castling.scenarios.store import load
    from tests.cli.test_chat_tmux_serve import free_port, serve

    path = Path(__file__).parents[2] / "scenarios" / "llama-plan" / "code-exec.yaml"
    port = free_port()
    env = terminal_env(tmp_path / "data", f"http://127.0.0.1:{port}")
    with open(tmp_path / "serve.log", "w") as log:
        server = serve(path, port, log, delay=0.5)
        terminal = Terminal(
            f"{CASTLING} chat -m llama3.1:8b --backbone llama --tools python --strategy plan --approve none", env
        )
        try:
            terminal.wait(lambda: at_prompt(terminal), "the prompt")
            terminal.keys(load(path).task, "Enter")
            terminal.wait(lambda: "planning: waiting for the model" in indicator(terminal.screen()), "the planning")
            terminal.wait(lambda: "step 1/1: waiting for the model" in indicator(terminal.screen()), "the step", 15)
            terminal.wait(lambda: "tok/s" in terminal.screen(), "the footer", timeout=30)
            screen = terminal.screen()
        finally:
            terminal.close()
            server.kill()
            server.wait(5)
    assert "Plan:\n  1. Compute 2**100 exactly with Python.  [run_python]" in screen
    assert '▸ step 1: Compute 2**100 exactly with Python.\n⚙ run_python(code="print(2**100)")' in screen
    assert "↳ 1267650600228229401496703205376" in screen
    assert indicator(screen) == []  # nothing left of the indicator


def indicator(screen):
    """What the activity indicator says on screen (without its spinner frame and seconds)."""
    return [line[2:].split(" · ")[0] for line in screen.splitlines() if line and line[0] in SPINNER]
