"""The chat's view of the context window: `/context`, `/compact`, and the notice when compaction happens."""

import pytest

from castling import ContextMemoryWarning
from castling.backbones.context import SUMMARY_HEADER, SUMMARY_PROMPT
from castling.cli.chat_command import _context_flags
from castling.cli.main import build_parser, main
from castling.testing import ScriptedOllama
from tests.cli.chatdriver import Chat


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


async def test_context_says_which_num_ctx_was_chosen_and_why(chat, server):
    server.add_reply("Rome.")
    await chat.run("Capital of Italy?\r", "/context\r", "/exit\r")
    assert "num_ctx 32,768: the profile's 32,768" in chat.text


QWEN3_8B = {
    "general.architecture": "qwen3",
    "qwen3.block_count": 36,
    "qwen3.attention.head_count_kv": 8,
    "qwen3.attention.key_length": 128,
}


async def test_a_window_that_does_not_fit_in_memory_is_said_once_in_the_chat(monkeypatch):
    monkeypatch.setenv("CASTLING_KV_MEMORY", "2GiB")  # what `castling chat --kv-memory 2GiB` sets
    server = ScriptedOllama("qwen3:8b", model_info=QWEN3_8B)
    server.add_reply("Rome.")
    server.add_reply("Paris.")
    chat = Chat(server)
    with pytest.warns(ContextMemoryWarning):
        await chat.run("Capital of Italy?\r", "And of France?\r", "/exit\r")
    assert [r["options"]["num_ctx"] for r in server.requests] == [14_336, 14_336]
    assert chat.text.count("asking for num_ctx=14,336 instead of 32,768") == 1


async def test_num_ctx_flag_is_sent_as_the_window(server, monkeypatch):
    monkeypatch.delenv("CASTLING_KV_MEMORY", raising=False)  # --kv-memory sets it: restored after the test
    args = build_parser().parse_args(["chat", "--num-ctx", "8192", "--kv-memory", "4GiB"])
    options: dict = {}
    assert _context_flags(args, options) is None
    server.add_reply("Rome.")
    chat = Chat(server, options=options)
    await chat.run("Capital of Italy?\r", "/context\r", "/exit\r")
    assert server.requests[0]["options"]["num_ctx"] == 8192
    assert "num_ctx 8,192: asked for 8,192" in chat.text


def test_bad_context_flags_are_refused_before_the_chat_starts(capsys):
    assert main(["chat", "--kv-memory", "lots"]) == 2
    assert "--kv-memory: kv_memory='lots' is not a size" in capsys.readouterr().err
    assert main(["chat", "--num-ctx", "12"]) == 2
    assert "--num-ctx 12 is too small" in capsys.readouterr().err


async def test_set_num_ctx_changes_the_window_sent_and_shown(chat, server):
    server.add_reply("Rome.")
    server.add_reply("Paris.")
    await chat.run("Capital of Italy?\r", "/set num_ctx 8192\r", "And of France?\r", "/context\r", "/exit\r")
    assert [r["options"]["num_ctx"] for r in server.requests] == [32768, 8192]
    assert "num_ctx 8,192: asked for 8,192" in chat.text and "window 8,192 tokens" in chat.text
