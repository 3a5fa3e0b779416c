"""The chat's data (sessions, checkpoints, history) is readable by the user alone: folder 0700, files 0600."""

import os
import stat

import pytest

from tests.cli.chatdriver import Chat
from tests.cli.ollama_stub import OllamaStub, text_lines
from tests.cli.test_chat_tmux import CASTLING, TMUX, Terminal, terminal_env


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def modes(folder):
    return {entry.name: mode(entry) for entry in folder.iterdir()}


@pytest.fixture(autouse=True)
def usual_umask():
    """The usual umask, which would leave everything world-readable."""
    saved = os.umask(0o022)
    yield
    os.umask(saved)


async def test_a_new_data_folder_and_its_databases_are_private(data_dir, server):
    server.add_reply("Hi.")
    await Chat(server).run("hi\r", "/exit\r")
    assert mode(data_dir) == 0o700
    assert {"sessions.db", "checkpoints.db"} <= set(modes(data_dir))
    assert set(modes(data_dir).values()) == {0o600}


async def test_a_folder_left_readable_by_an_older_version_is_tightened_on_start(data_dir, server):
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    for name in ("sessions.db", "checkpoints.db", "checkpoints.db-wal", "history", "saved.yaml"):
        (data_dir / name).write_bytes(b"")
        (data_dir / name).chmod(0o644)
    (data_dir / "old-session").mkdir(mode=0o755)
    server.add_reply("Hi.")
    await Chat(server).run("hi\r", "/exit\r")
    assert mode(data_dir) == 0o700
    files = {name: value for name, value in modes(data_dir).items() if name != "old-session"}
    assert {"history", "sessions.db", "checkpoints.db", "saved.yaml"} <= set(files) and set(files.values()) == {0o600}
    assert mode(data_dir / "old-session") == 0o700


async def test_a_data_folder_that_cannot_be_made_private_is_one_clear_line(tmp_path, monkeypatch, server):
    monkeypatch.setenv("CASTLING_DATA_DIR", "/proc/castling-data")  # no one can create a folder there
    chat = Chat(server)
    assert await chat.run() == 1
    assert chat.text.startswith("error: The chat's data folder /proc/castling-data cannot be made private")
    assert "CASTLING_DATA_DIR" in chat.text and chat.text.count("\n") == 1


@pytest.mark.skipif(TMUX is None or not CASTLING.exists(), reason="needs tmux and the castling script")
def test_in_a_real_terminal_history_and_the_write_ahead_log_are_private_too(tmp_path):
    """A real `castling chat` (prompt_toolkit history, SQLite in WAL mode) under umask 022, checked mid-session."""
    data = tmp_path / "data"
    with OllamaStub(["llama3:latest"]) as server:
        server.add(text_lines("llama3", ["Private ", "answer."]))
        command = f"sh -c 'umask 022; exec {CASTLING} chat --tools none --strategy tools'"
        terminal = Terminal(command, terminal_env(data, server.host))
        try:
            terminal.wait(lambda: terminal.screen().rstrip().endswith(">>>"), "the prompt")
            terminal.keys("a secret question", "Enter")
            terminal.wait(lambda: "tok/s" in terminal.screen(), "the answer")
            terminal.wait(lambda: (data / "history").stat().st_size > 0, "the history to be written")
            live = modes(data)  # while the chat runs: SQLite's -wal and -shm files exist now
            terminal.keys("C-d")
            terminal.wait(lambda: not terminal.alive(), "the chat to exit")
        finally:
            terminal.close()
    assert mode(data) == 0o700
    assert {"history", "sessions.db", "checkpoints.db", "checkpoints.db-wal", "checkpoints.db-shm"} <= set(live), live
    assert set(live.values()) == {0o600}, live
