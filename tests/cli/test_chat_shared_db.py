"""`castling chat --db URL --resume ID`: a session started on one machine continues on another."""

import re

from tests.cli.chatdriver import Chat


async def test_a_session_in_postgres_resumes_from_another_machine(server, postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CASTLING_DATA_DIR", str(tmp_path / "machine-a"))
    server.add_reply("Noted: 42.")
    first = Chat(server, db=postgres_url)
    await first.run("remember 42\r", "/sessions\r", "/exit\r")
    listed = next(line for line in first.text.splitlines() if "remember 42" in line)
    session_id = re.findall(r"\b[0-9a-f]{8}\b", listed)[0]

    monkeypatch.setenv("CASTLING_DATA_DIR", str(tmp_path / "machine-b"))  # its own session list: it has never met it
    server.add_reply("It was 42.")
    second = Chat(server, db=postgres_url, resume=session_id)
    await second.run("what number?\r", "/exit\r")

    assert f"resumed session {session_id}" in second.text
    assert [m["content"] for m in server.requests[1]["messages"]] == ["remember 42", "Noted: 42.", "what number?"]


async def test_an_unreachable_db_is_reported_in_one_line(server, tmp_path):
    chat = Chat(server, db="postgresql://bob:secret@127.0.0.1:1/threads")
    server.add_reply("unused")
    await chat.run("hello\r", "/exit\r")
    assert "Could not open the PostgreSQL checkpointer at postgresql://bob@127.0.0.1:1/threads" in chat.text
    assert "secret" not in chat.text
