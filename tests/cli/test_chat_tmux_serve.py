"""End to end against `castling serve`: a chat saved with /save is served by a real process, a second chat in
tmux talks to it as to Ollama, saves again, and that file replays."""

import socket
import subprocess
import time

from castling.scenarios.runner import run_file
from castling.scenarios.store import load
from castling.testing import ScriptedOllama
from tests.cli.chatdriver import Chat
from tests.cli.test_chat_tmux import CASTLING, Terminal, pytestmark, terminal_env  # noqa: F401  (skip without tmux)

JOKE = "Why did the sandbox go to therapy? It had too many boundaries."
LONG = " ".join(f"word{i}" for i in range(60)) + " done."


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(path, port, log, delay=0.002):
    """`castling serve` in its own process; returns once it accepts connections."""
    process = subprocess.Popen(
        [str(CASTLING), "serve", str(path), "--port", str(port), "--delay", str(delay)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"castling serve did not start: {log.name}")


async def test_chat_in_tmux_against_castling_serve_then_save_and_replay(tmp_path, monkeypatch):
    # 1. A conversation recorded in-process (scripted server) and saved: the scenario to serve.
    scripted = ScriptedOllama("qwen3:8b")
    scripted.add_reply(JOKE)
    scripted.add_reply(LONG)
    served = tmp_path / "served.yaml"
    first = Chat(scripted)
    await first.run("tell me a joke\r", "and a long one\r", f"/save {served}\r", "/exit\r")
    assert load(served).recording.source == "constructed"

    # 2. The same conversation typed into a real terminal, against `castling serve` (strict matching).
    port = free_port()
    again = tmp_path / "again.yaml"
    env = terminal_env(tmp_path / "data2", f"http://127.0.0.1:{port}")
    with open(tmp_path / "serve.log", "w") as log:
        server = serve(served, port, log)
        terminal = Terminal(f"{CASTLING} chat --tools none", env)
        try:
            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt")
            assert "castling chat · qwen3:8b" in terminal.screen()
            terminal.keys("tell me a joke", "Enter")
            terminal.wait(lambda: "too many boundaries" in terminal.screen(), "the served joke")
            terminal.keys("and a long one", "Enter")
            terminal.wait(lambda: "word59 done." in terminal.screen(), "the second reply, streamed")
            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt after the reply")
            terminal.keys(f"/save {again}", "Enter")
            terminal.wait(lambda: "saved 2 model turn(s)" in terminal.screen(), "the /save confirmation")
            assert "source constructed" in terminal.screen()  # castling serve is not a model: never "live"
            terminal.keys("C-d")
            terminal.wait(lambda: not terminal.alive(), "the chat to exit")
        finally:
            terminal.close()
            server.kill()
            server.wait(5)
    assert "diverged" not in (tmp_path / "serve.log").read_text()  # every request matched the recording

    # 3. The second save: same traffic, honest provenance, and it replays.
    saved = load(again)
    assert saved.recording.source == "constructed"
    assert saved.recording.provenance == "castling serve replaying served.yaml"
    assert [t.request.fingerprint for t in saved.model_turns] == [
        t.request.fingerprint for t in load(served).model_turns
    ]
    report = run_file(again)
    assert report.status == "passed", report.message()
    assert report.outcome.final_answer == LONG
