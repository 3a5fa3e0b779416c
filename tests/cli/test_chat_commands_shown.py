"""What the small commands show: /help fits the terminal, /set says what is sent, /usage per conversation."""

import re

from castling.cli.render import Screen
from tests.cli.chatdriver import Chat


def chunk(text):
    return {"model": "qwen3:8b", "message": {"role": "assistant", "content": text}, "done": False}


async def test_help_is_wrapped_to_the_terminal_and_lists_the_approval_keys(server):
    chat = Chat(server)
    chat.screen = Screen(chat.out, styled=False, width=50)
    await chat.run("/help\r", "/exit\r")
    help_lines = chat.text.split("Commands:")[1].splitlines()
    assert max(len(line) for line in help_lines) <= 50, [line for line in help_lines if len(line) > 50]
    assert "/approve [TOOL] ask|auto|never" in chat.text
    assert "a always" in " ".join(chat.text.split())


async def test_set_shows_plain_values_and_the_options_actually_sent(chat, server):
    server.add_reply("hi")
    await chat.run("/set num_ctx 8192\r", "hi\r", "/set\r", "/exit\r")
    assert "num_ctx = 8192" in chat.text
    assert "set: num_ctx=8192" in chat.text
    assert re.search(r"sent to the model: .*num_ctx=8192", chat.text)
    assert "{" not in chat.text  # no Python dict echoed


async def test_set_without_settings_still_says_the_num_ctx_that_is_sent(chat, server):
    server.add_reply("hi")
    await chat.run("hi\r", "/set\r", "/exit\r")
    assert "set: nothing (the defaults)" in chat.text
    assert re.search(r"sent to the model: .*num_ctx=\d+", chat.text), chat.text


async def test_usage_starts_again_after_new(chat, server):
    server.add_reply("one")
    server.add_reply("two")
    await chat.run("a\r", "/new\r", "b\r", "/usage\r", "/exit\r")
    assert "turns 1 · model calls 1 · prompt tokens 20 ·" in chat.text


async def test_usage_counts_the_model_call_of_a_cut_reply_as_interrupted(chat, server):
    server.add_lines([chunk("Half an "), chunk("answer")])  # no `done` chunk: the reply was cut short
    await chat.run("explain\r", "/usage\r", "/exit\r")
    assert "model calls 1 ·" in chat.text
    assert chat.text.rstrip().endswith("interrupted 1") or "interrupted 1" in chat.text


async def test_resume_keeps_the_sessions_settings(server):
    server.add_reply("noted")
    server.add_reply("still here")
    first = Chat(server)
    await first.run("/set num_ctx 8192\r", "/think off\r", "remember 7\r", "/exit\r")
    resumed = Chat(server, resume="")  # a new process: `castling chat --resume`
    await resumed.run("what number?\r", "/exit\r")
    request = server.requests[-1]
    assert request["options"]["num_ctx"] == 8192 and request["think"] is False
    assert "with its settings: num_ctx=8192" in resumed.text


async def test_settings_changed_after_the_last_turn_are_kept_too(server):
    server.add_reply("noted")
    server.add_reply("still here")
    first = Chat(server)
    await first.run("remember 7\r", "/set temperature 0.1\r", "/exit\r")
    resumed = Chat(server, resume="")
    await resumed.run("what number?\r", "/exit\r")
    assert server.requests[-1]["options"]["temperature"] == 0.1
