"""The chat's view of the context window: `/context`, `/compact`, and the notice when compaction happens."""

from castling.backbones.context import SUMMARY_HEADER, SUMMARY_PROMPT


async def test_context_shows_the_budget_and_the_biggest_items(chat, server):
    server.add_reply("Rome is the capital of Italy.")
    await chat.run("What is the capital of Italy?\r", "/context\r", "/exit\r")
    assert "window 32,768 tokens" in chat.text
    assert "next request ~" in chat.text and "compaction: compact" in chat.text
    assert "biggest items:" in chat.text and "user: What is the capital of Italy?" in chat.text


async def test_compact_summarises_older_turns_on_the_next_request_and_says_so(chat, server):
    server.add_reply("Rome.")
    server.add_reply("The user asked for Italy's capital: Rome.")  # the summary call
    server.add_reply("Paris.")
    await chat.run("Capital of Italy?\r", "/compact\r", "And of France?\r", "/exit\r")
    summary_call, sent = server.requests[1], server.requests[2]
    assert summary_call["messages"][0]["content"] == SUMMARY_PROMPT
    assert "Capital of Italy?" in summary_call["messages"][1]["content"]
    assert sent["messages"][0]["role"] == "system" and SUMMARY_HEADER in sent["messages"][0]["content"]
    assert [m["content"] for m in sent["messages"][1:]] == ["And of France?"]
    assert "context compacted" in chat.text and "older message(s) summarised" in chat.text
    assert "Paris." in chat.text
