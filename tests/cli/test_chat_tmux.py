"""End to end in a real terminal: `castling chat` in tmux, against a loopback server replaying Ollama traffic."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.cli.ollama_stub import OllamaStub, recorded_lines, text_lines

TMUX = shutil.which("tmux")
CASTLING = Path(sys.executable).parent / "castling"
pytestmark = pytest.mark.skipif(TMUX is None or not CASTLING.exists(), reason="needs tmux and the castling script")


def terminal_env(data_dir, host=None):
    """The environment of a chat in a real terminal: the user's, minus colour/tmux/size settings, with private data.

    COLUMNS and LINES go too (pytest-xdist workers have COLUMNS=80 LINES=24), so each test sees a plain user's
    terminal; the chat asks the terminal itself first, and a test exporting COLUMNS adds it back on purpose.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TMUX", "COLUMNS", "LINES")}
    env.update({"CASTLING_DATA_DIR": str(data_dir), "TERM": "xterm-256color"})
    if host is not None:
        env["OLLAMA_HOST"] = host
    return env


class Terminal:
    """One tmux session on a private socket in the test's temp dir, so nothing of the user's tmux is touched."""

    def __init__(self, command, env, columns=100):
        self.folder = tempfile.mkdtemp(prefix="castling-tmux-")  # short: unix socket paths are limited to ~100 bytes
        self.socket = os.path.join(self.folder, "sock")
        self.env = env
        self._tmux("new-session", "-d", "-s", "chat", "-x", str(columns), "-y", "40", command)

    def _tmux(self, *args):
        return subprocess.run(
            [TMUX, "-S", self.socket, *args], env=self.env, capture_output=True, text=True, check=False, timeout=5
        )

    def screen(self):
        return self._tmux("capture-pane", "-p", "-t", "chat", "-S", "-100").stdout

    def keys(self, *keys):
        self._tmux("send-keys", "-t", "chat", *keys)

    def alive(self):
        return self._tmux("has-session", "-t", "chat").returncode == 0

    def wait(self, condition, what, timeout=8.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")

    def close(self):
        self._tmux("kill-server")
        shutil.rmtree(self.folder, ignore_errors=True)


def test_chat_in_a_real_terminal(tmp_path):
    with OllamaStub(["llama3:latest"]) as server:
        server.add(recorded_lines(), delay=0.005)
        server.add(text_lines("llama3", [f"word{i} " for i in range(400)]), delay=0.02)
        env = terminal_env(tmp_path, server.host)
        terminal = Terminal(f"{CASTLING} chat --tools none --strategy tools", env)
        try:
            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt")
            assert "castling chat · llama3:latest" in terminal.screen()
            terminal.keys("tell me a joke", "Enter")
            terminal.wait(lambda: "tok/s" in terminal.screen(), "the footer")
            screen = terminal.screen()
            assert "Why did the OpenTelemetry agent go to therapy?" in screen
            assert "17 in · 50 out" in screen
            assert server.requests[0]["messages"][-1]["content"] == "tell me a joke"

            terminal.keys("and another", "Enter")
            terminal.wait(lambda: "word5 " in terminal.screen(), "the second reply to stream")
            terminal.keys("C-c")
            terminal.wait(lambda: "^C interrupted" in terminal.screen(), "the interruption notice")
            assert server.hung_up.wait(5), "the server must see the stream closed"

            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt after ^C")
            terminal.keys("C-c")
            terminal.wait(lambda: "Press Ctrl-C again" in terminal.screen(), "the exit hint")
            terminal.keys("C-c")
            terminal.wait(lambda: not terminal.alive(), "the chat to exit")
        finally:
            terminal.close()
    resumed_after_kill(env, tmp_path)


def resumed_after_kill(env, tmp_path):
    """A session survives the process being killed mid-reply; only that reply's unfinished part is lost."""
    with OllamaStub(["llama3:latest"]) as server:
        server.add(text_lines("llama3", [f"slow{i} " for i in range(400)]), delay=0.02)
        chat = subprocess.Popen(
            [str(CASTLING), "chat", "--resume", "--tools", "none", "--strategy", "tools"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env={**env, "OLLAMA_HOST": server.host},
            text=True,
        )
        try:
            chat.stdin.write("third question\n")
            chat.stdin.flush()
            deadline = time.monotonic() + 8
            while not server.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
        finally:
            chat.kill()
            chat.wait(5)
    with OllamaStub(["llama3:latest"]) as server:
        server.add(text_lines("llama3", ["Resumed."]))
        done = subprocess.run(
            [str(CASTLING), "chat", "--resume", "--tools", "none", "--strategy", "tools"],
            input="fourth\n",
            env={**env, "OLLAMA_HOST": server.host},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert "Resumed." in done.stdout, done.stdout + done.stderr
        history = [(m["role"], m["content"]) for m in server.requests[0]["messages"]]
    assert [role for role, _ in history] == ["user", "assistant", "user", "assistant", "user", "user"]
    assert history[0] == ("user", "tell me a joke") and "OpenTelemetry" in history[1][1]
    assert history[3][1].startswith("word0 ") and history[3][1].endswith("[interrupted by user]")
    assert history[4:] == [("user", "third question"), ("user", "fourth")]


def tool_call(code):
    """One streamed chunk asking for `run_python(code)`, then the done line."""
    chunk = {
        "model": "qwen3:8b",
        "created_at": "2024-05-24T20:26:46Z",
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "run_python", "arguments": {"code": code}}}],
        },
        "done": False,
    }
    return [json.dumps(chunk), text_lines("qwen3:8b", [])[-1]]


def tool_results(request):
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="the real python tool needs bubblewrap")
def test_approval_with_the_real_python_tool_in_a_real_terminal(tmp_path):
    """Run once, Ctrl-C while the sandboxed code runs, and reject: with castling.tools.python, not a stand-in."""
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(tool_call("print(6 * 7)"))
        server.add(text_lines("qwen3:8b", ["It ", "is ", "42."]))
        server.add(tool_call("import time\ntime.sleep(60)"))
        server.add(tool_call("import os\nos.remove('x')"))
        server.add(text_lines("qwen3:8b", ["I ", "will ", "not ", "delete ", "it."]))
        env = terminal_env(tmp_path, server.host)
        terminal = Terminal(f"{CASTLING} chat --tools python --strategy tools", env)
        try:
            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt")
            assert "run_python (ask)" in terminal.screen()
            terminal.keys("what is 6*7", "Enter")
            terminal.wait(lambda: "Run it? [Enter] once" in terminal.screen(), "the approval question")
            terminal.keys("Enter")
            terminal.wait(lambda: "It is 42." in terminal.screen(), "the answer after the code ran")

            terminal.keys("sleep a minute", "Enter")
            terminal.wait(lambda: terminal.screen().count("Run it? [Enter] once") == 2, "the second question")
            terminal.keys("Enter")
            terminal.wait(lambda: "⚙ run_python" in terminal.screen().split("Run it?")[-1], "the sleep to start")
            terminal.keys("C-c")
            terminal.wait(lambda: "the tool was stopped" in terminal.screen(), "the tool to be interrupted")

            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt after ^C")
            terminal.keys("clean up", "Enter")
            terminal.wait(lambda: "os.remove('x')" in terminal.screen(), "the third question")
            terminal.keys("n")
            terminal.wait(lambda: "Why not?" in terminal.screen(), "the reason question")
            terminal.keys("keep my files", "Enter")
            terminal.wait(lambda: "I will not delete it." in terminal.screen(), "the answer")
            terminal.keys("C-d")
            terminal.wait(lambda: not terminal.alive(), "the chat to exit")
        finally:
            terminal.close()
    assert tool_results(server.requests[1]) == ["[stdout]\n42"]  # the sandbox really ran the code
    # the next request carries the interrupted sleep's result: the history stayed valid
    assert "Interrupted by the user" in tool_results(server.requests[3])[-1]
    last = tool_results(server.requests[4])[-1]
    assert "declined" in last and "keep my files" in last


@pytest.mark.skipif(shutil.which("bwrap") is not None, reason="covered with the real python tool")
def test_approval_in_a_real_terminal_without_a_sandbox(tmp_path):
    """Where bubblewrap is missing the real tool cannot start: a stand-in tool keeps the approval UI covered."""
    script = Path(__file__).parent / "chat_with_fake_tool.py"
    with OllamaStub(["qwen3:8b"]) as server:
        server.add(tool_call("import os\nos.remove('x')"))
        server.add(text_lines("qwen3:8b", ["I ", "will ", "not ", "delete ", "it."]))
        env = terminal_env(tmp_path)
        terminal = Terminal(f"{sys.executable} {script} {server.host}", env)
        try:
            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt")
            terminal.keys("clean up", "Enter")
            terminal.wait(lambda: "Run it? [Enter] once" in terminal.screen(), "the approval question")
            assert "os.remove('x')" in terminal.screen()
            terminal.keys("n")
            terminal.wait(lambda: "Why not?" in terminal.screen(), "the reason question")
            terminal.keys("keep my files", "Enter")
            terminal.wait(lambda: "I will not delete it." in terminal.screen(), "the answer")
            terminal.keys("C-d")
            terminal.wait(lambda: not terminal.alive(), "the chat to exit")
        finally:
            terminal.close()
    (result,) = tool_results(server.requests[1])
    assert "declined" in result and "keep my files" in result
