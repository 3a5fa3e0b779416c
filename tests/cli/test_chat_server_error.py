"""A reply cut by a server error mid-stream: shown, and kept in the conversation marked with the error."""

from castling.scenarios.runner import run_file
from castling.scenarios.store import load


def chunk(text):
    return {"model": "qwen3:8b", "message": {"role": "assistant", "content": text}, "done": False}


async def test_partial_reply_before_a_server_error_is_kept_marked_with_the_error(chat, server):
    server.add_lines([chunk("The first half "), chunk("of the answer"), {"error": "model runner crashed"}])
    server.add_reply("Sorry, here it is again.")
    await chat.run("explain\r", "go on\r", "/exit\r")

    assert "The first half of the answer" in chat.text
    assert "model runner crashed" in chat.text
    assert "the partial answer is kept in the conversation" in chat.text
    history = [(m["role"], m["content"]) for m in server.requests[1]["messages"] if m["role"] != "system"]
    assert history[0] == ("user", "explain")
    role, said = history[1]
    assert role == "assistant" and said.startswith("The first half of the answer")
    assert "[reply cut off by an error:" in said and "model runner crashed" in said
    assert history[2] == ("user", "go on")
    assert "Sorry, here it is again." in chat.text


async def test_an_error_before_any_text_adds_nothing_to_the_conversation(chat, server):
    server.add_error(500, "model runner crashed")
    server.add_reply("Fine now.")
    await chat.run("explain\r", "again\r", "/exit\r")
    assert "model runner crashed" in chat.text
    assert "partial answer is kept" not in chat.text
    roles = [m["role"] for m in server.requests[1]["messages"] if m["role"] != "system"]
    assert roles == ["user", "user"]


async def test_a_session_with_a_cut_reply_is_saved_for_wire_replay(chat, server, tmp_path):
    server.add_lines([chunk("Half an answer"), {"error": "model runner crashed"}])
    server.add_reply("Whole answer.")
    target = tmp_path / "cut.yaml"
    await chat.run("explain\r", "go on\r", f"/save {target}\r", "/exit\r")
    assert "wire replay only, because a turn failed" in chat.text
    scenario = load(target)
    assert scenario.agent.runner == "wire"
    assert [t.summary.content for t in scenario.model_turns] == ["Half an answer", "Whole answer."]
    assert run_file(target).status == "passed"


async def test_a_reply_cut_before_the_final_chunk_is_shown_as_an_error_and_kept_as_cut(chat, server):
    server.add_lines([chunk("Half an "), chunk("answer")])  # the stream ends with no `done` chunk
    server.add_reply("Whole answer.")
    await chat.run("explain\r", "go on\r", "/exit\r")
    assert "ended before the reply" in chat.text
    assert "the partial answer is kept in the conversation" in chat.text
    said = [m["content"] for m in server.requests[1]["messages"] if m["role"] == "assistant"][0]
    assert said.startswith("Half an answer") and "[reply cut off by an error:" in said
