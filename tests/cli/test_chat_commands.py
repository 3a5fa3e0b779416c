"""Every slash command, typed through prompt_toolkit's pipe input against a scripted Ollama."""

import pytest

from castling.cli.commands import COMMANDS
from castling.testing import ScriptedOllama
from castling.tools.builtins import BUILTIN_TOOLS, BuiltinTool
from tests.cli.chatdriver import Chat


async def test_help_lists_every_command_from_the_table(chat):
    await chat.run("/help\r", "/exit\r")
    for name, entry in COMMANDS.items():
        assert f"/{name}" in chat.text and entry.help in " ".join(chat.text.split())  # wrapped to the terminal


async def test_unknown_command_gets_one_line(chat):
    await chat.run("/frobnicate\r", "/exit\r")
    assert "error: unknown command /frobnicate: /help lists the commands" in chat.text


async def test_new_starts_an_empty_conversation(chat, server):
    server.add_reply("First.")
    server.add_reply("Second.")
    await chat.run("one\r", "/new\r", "two\r", "/exit\r")
    assert [m["content"] for m in server.requests[1]["messages"]] == ["two"]
    assert "new session" in chat.text


async def test_model_switch_keeps_history():
    server = ScriptedOllama("qwen3:8b", installed=["qwen3:8b", "qwen3:4b"])
    server.add_reply("Hi from 8b.")
    server.add_reply("Hi from 4b.")
    chat = Chat(server, model="qwen3:8b")
    await chat.run("hi\r", "/model qwen3:4b\r", "again\r", "/exit\r")
    second = server.requests[1]
    assert second["model"] == "qwen3:4b"
    assert [m["content"] for m in second["messages"]] == ["hi", "Hi from 8b.", "again"]
    assert "model: qwen3:4b" in chat.text


async def test_model_not_installed_is_one_line_and_keeps_the_old_model(chat, server):
    server.add_reply("Still 8b.")
    await chat.run("/model nope:1b\r", "hi\r", "/exit\r")
    assert "error: Model 'nope:1b' is not installed" in chat.text and "ollama pull nope:1b" in chat.text
    assert server.requests[0]["model"] == "qwen3:8b"


async def test_backbone_and_strategy_switch_when_available(chat, server):
    server.add_reply("ok")
    await chat.run("/backbone llama\r", "/strategy plan\r", "/strategy tools\r", "/backbone qwen\r", "hi\r", "/exit\r")
    assert "error:" not in chat.text
    assert "backbone: llama" in chat.text and "strategy: plan" in chat.text and "strategy: tools" in chat.text
    assert server.requests[0]["model"] == "qwen3:8b"


async def test_think_and_set_change_the_next_request(chat, server):
    server.add_reply("a")
    server.add_reply("b")
    await chat.run("/think off\r", "/set num_ctx 8192\r", "/set temperature 0.2\r", "hi\r", "/set\r", "/exit\r")
    request = server.requests[0]
    assert request["think"] is False
    assert request["options"]["num_ctx"] == 8192 and request["options"]["temperature"] == 0.2
    assert "set: num_ctx=8192 temperature=0.2" in chat.text


async def test_tools_list_enable_disable(server):
    chat = Chat(server)
    chat.extra_tools = {"echo": lambda: echo_tool()}
    server.add_reply("no tools")
    server.add_reply("with echo")
    await chat.run(
        "/tools\r", "hi\r", "/tools enable echo\r", "/tools\r", "hi\r", "/tools disable echo\r", "/tools\r", "/exit\r"
    )
    assert not server.requests[0].get("tools")
    assert [t["function"]["name"] for t in server.requests[1]["tools"]] == ["echo"]
    assert "off echo" in chat.text and "on  echo" in chat.text
    assert "tools: echo" in chat.text and "tools: none" in chat.text


async def test_enabling_a_tool_that_is_not_installed_is_one_line(chat, monkeypatch):
    monkeypatch.setitem(BUILTIN_TOOLS, "ghost", BuiltinTool("castling.tools:ghost_tool_that_does_not_exist", "ghost"))
    await chat.run("/tools enable ghost\r", "/tools enable nope\r", "/exit\r")
    assert "error: The ghost tool is not installed in this version of castling" in chat.text
    assert "error: Unknown tool 'nope': available tools are" in chat.text


async def test_usage_counts_tokens_and_turns(chat, server):
    server.add_reply("one")
    server.add_reply("two")
    await chat.run("a\r", "b\r", "/usage\r", "/exit\r")
    assert "turns 2 · model calls 2 · prompt tokens 40 · output tokens 20 · 50.0 tok/s · tool calls 0" in chat.text


ANSWER = "# Title\n\n**bold** text"


async def test_markdown_and_copy_print_the_last_answer_raw(chat, server):
    server.add_reply(ANSWER)
    await chat.run("/copy\r", "q\r", "/markdown\r", "/copy\r", "/exit\r")
    assert "no answer yet" in chat.text
    assert chat.text.count(ANSWER) == 3  # streamed once, then /markdown and /copy
    assert f"copied {len(ANSWER)} characters" in chat.text


async def test_verbose_and_multiline_toggle(chat, server):
    server.add_reply("got both lines")
    await chat.run("/verbose\r", "/multiline\r", "line one\rline two\x1b\r", "/multiline\r", "/exit\r")
    assert "verbose: on" in chat.text and "multiline: on" in chat.text and "multiline: off" in chat.text
    assert server.requests[0]["messages"][-1]["content"] == "line one\nline two"


async def test_triple_quote_block_is_one_message(chat, server):
    server.add_reply("ok")
    await chat.run('"""\rfirst\rsecond\r"""\r', "/exit\r")
    assert server.requests[0]["messages"][-1]["content"] == "first\nsecond"


async def test_sessions_and_resume_by_id(server):
    server.add_reply("About cats.")
    first = Chat(server)
    await first.run("tell me about cats\r", "/exit\r")
    server.add_reply("Dogs now.")
    server.add_reply("Back to cats.")
    second = Chat(server)
    await second.run("dogs?\r", "/sessions\r", "/exit\r")
    session_id = next(line.split()[0] for line in second.text.splitlines() if "tell me about cats" in line)
    third = Chat(server)
    await third.run(f"/resume {session_id}\r", "more\r", "/exit\r")
    assert "you: tell me about cats" in third.text and "assistant: About cats." in third.text
    assert [m["content"] for m in server.requests[2]["messages"]] == ["tell me about cats", "About cats.", "more"]


async def test_resume_flag_continues_the_last_session(server):
    server.add_reply("Noted: 42.")
    await Chat(server).run("remember 42\r", "/exit\r")
    server.add_reply("It was 42.")
    resumed = Chat(server, resume="")
    await resumed.run("what number?\r", "/exit\r")
    assert [m["content"] for m in server.requests[1]["messages"]] == ["remember 42", "Noted: 42.", "what number?"]


async def test_resume_unknown_session_is_one_line(chat):
    await chat.run("/resume zzzz\r", "/exit\r")
    assert "error: no session 'zzzz': /sessions lists them" in chat.text


def echo_tool():
    from castling import tool

    @tool
    def echo(text: str) -> str:
        """Echo the text."""
        return text

    return echo


@pytest.mark.parametrize(("command", "expected"), [("/approve\r", "run_python   ask"), ("/approve never\r", "never")])
async def test_approve_shows_and_sets_modes(server, command, expected):
    chat = Chat(server, tools="run_python")
    chat.extra_tools = {"run_python": lambda: echo_tool()}
    await chat.run(command, "/approve\r", "/exit\r")
    assert expected in chat.text


async def test_resume_flag_without_sessions_is_one_line(server):
    chat = Chat(server, resume="")
    assert await chat.run() == 1
    assert "error: there is no saved session to resume yet" in chat.text


async def test_mid_session_server_error_is_one_line_and_the_chat_goes_on(chat, server):
    server.add_error(500, "out of memory")
    server.add_reply("Recovered.")
    await chat.run("first\r", "second\r", "/exit\r")
    error = next(line for line in chat.text.splitlines() if line.startswith("error:"))
    assert "out of memory" in error
    assert "Recovered." in chat.text


async def test_resuming_a_session_that_stopped_at_an_approval_marks_the_calls_interrupted(server, data_dir):
    from castling import Agent, ApprovalEvent, Qwen
    from castling.cli.sessions import SessionIndex, open_checkpointer
    from tests.cli.test_chat_approval_and_ctrl_c import code_chat

    ran = []
    chat = code_chat(server, ran)
    tool = chat.extra_tools["run_python"]()
    data_dir.mkdir(parents=True, exist_ok=True)
    server.add_reply(tool_calls=[("run_python", {"code": "1"})])
    async with open_checkpointer(data_dir / "checkpoints.db") as saver:
        agent = Agent(Qwen("qwen3:8b", transport=server.transport), [tool], checkpointer=saver, approve={"run_python"})
        events = [e async for e in agent.astream("compute", thread_id="abc12345")]
    assert isinstance(events[-1], ApprovalEvent)  # the process "died" here, waiting for the user
    SessionIndex(data_dir / "sessions.db").touch("abc12345", "compute", "qwen3:8b")
    server.add_reply("Starting over.")
    await chat.run("/resume abc12345\r", "never mind\r", "/exit\r")
    assert ran == []
    assert "marked interrupted" in chat.text
    roles = [m["role"] for m in server.requests[1]["messages"]]
    assert roles == ["user", "assistant", "tool", "user"]


async def test_backbone_accepts_a_family_registered_in_code(chat, server, monkeypatch):
    from castling import Qwen
    from castling.backbones.registry import BACKBONES

    built: list[str] = []

    class Mine(Qwen):
        def __init__(self, model: str, **options):
            built.append(model)
            super().__init__(model, **options)

    monkeypatch.setitem(BACKBONES, "mine", Mine)
    server.add_reply("ok")
    await chat.run("/backbone mine\r", "hi\r", "/exit\r")
    assert "error:" not in chat.text and "backbone: mine" in chat.text
    assert built and server.requests[0]["model"] == "qwen3:8b"
