"""The chat loop: streamed answers, footers, errors at start, exits."""


async def test_answer_is_streamed_with_footer_and_conversation_continues(chat, server):
    server.add_reply("Hello there, how can I help?", thinking="The user greets me.")
    server.add_reply("You said hi.")
    status = await chat.run("hi\r", "what did I say?\r", "/exit\r")
    assert status == 0
    out = chat.text
    assert "Hello there, how can I help?" in out
    assert "Thinking...\nThe user greets me.\n...done thinking." in out
    assert "20 in · 10 out · 50.0 tok/s · context 30/32768 (0%)" in out
    second = server.requests[1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[1]["content"] == "Hello there, how can I help?"


async def test_ctrl_d_exits(chat):
    assert await chat.run("\x04") == 0
    assert "castling chat · qwen3:8b" in chat.text
