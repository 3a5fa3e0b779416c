"""Approval choices and every Ctrl-C case, through the pipe input (and a real SIGINT during a turn)."""

import asyncio
import json
import os
import signal

import httpx
import pytest

from castling import tool
from castling.agents.interruption import INTERRUPTED_NOTE, TOOL_INTERRUPTED
from tests.cli.chatdriver import Chat


def code_chat(server, ran, **options):
    @tool
    def run_python(code: str) -> str:
        """Run Python code."""
        ran.append(code)
        return f"ran {code}\nsecond line"

    chat = Chat(server, tools="run_python", **options)
    chat.extra_tools = {"run_python": lambda: run_python}
    return chat


def tool_results(request):
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


async def test_run_once_shows_the_code_and_asks_again_next_time(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "print(1)"})])
    server.add_reply(tool_calls=[("run_python", {"code": "print(2)"})])
    server.add_reply("Done.")
    chat = code_chat(server, ran)
    await chat.run("go\r", "\r", "y", "/exit\r")
    assert ran == ["print(1)", "print(2)"]
    assert chat.text.count("run_python wants to run:") == 2
    assert "    print(1)" in chat.text
    assert '⚙ run_python(code="print(1)")' in chat.text
    assert "  ↳ ran print(1)  (+1 line, /verbose shows all)" in chat.text


async def test_always_stops_asking_for_that_tool(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "a"})])
    server.add_reply(tool_calls=[("run_python", {"code": "b"})])
    server.add_reply("Done.")
    chat = code_chat(server, ran)
    await chat.run("go\r", "a", "/approve\r", "/exit\r")
    assert ran == ["a", "b"]
    assert chat.text.count("run_python wants to run:") == 1
    assert "run_python   auto" in chat.text


async def test_edit_runs_the_edited_code(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "print(1)"})])
    server.add_reply("Done.")
    chat = code_chat(server, ran)
    await chat.run("go\r", "e", "\x15print(42)\x1b\r", "/exit\r")
    assert ran == ["print(42)"]
    assert tool_results(server.requests[1]) == ["ran print(42)\nsecond line"]


async def test_reject_sends_the_reason_to_the_model_and_runs_nothing(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "import os; os.remove('x')"})])
    server.add_reply("Understood, I will not delete it.")
    chat = code_chat(server, ran)
    await chat.run("go\r", "n", "do not delete files\r", "/exit\r")
    assert ran == []
    (result,) = tool_results(server.requests[1])
    assert "declined" in result and "do not delete files" in result
    assert "Understood, I will not delete it." in chat.text


async def test_never_mode_rejects_without_asking(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "1"})])
    server.add_reply("OK.")
    chat = code_chat(server, ran, approve="run_python=never")
    await chat.run("go\r", "/exit\r")
    assert ran == [] and "wants to run" not in chat.text
    assert "approval mode 'never'" in tool_results(server.requests[1])[0]


async def test_verbose_shows_the_whole_result(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "1"})])
    server.add_reply("OK.")
    chat = code_chat(server, ran, approve="none")
    await chat.run("/verbose\r", "go\r", "/exit\r")
    assert "    ran 1\n    second line\n" in chat.text and "wants to run" not in chat.text


async def test_ctrl_c_at_the_approval_question_interrupts_the_turn_and_keeps_history_valid(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "1"})])
    server.add_reply("Fresh start.")
    chat = code_chat(server, ran)
    await chat.run("go\r", "\x03", "next\r", "/exit\r")
    assert ran == []
    assert "^C interrupted" in chat.text
    roles = [m["role"] for m in server.requests[1]["messages"]]
    assert roles == ["user", "assistant", "tool", "user"]
    assert tool_results(server.requests[1]) == [TOOL_INTERRUPTED]


# -- Ctrl-C at the prompt --------------------------------------------------------------------------------------
async def test_ctrl_c_clears_a_typed_line(chat, server):
    server.add_reply("ok")
    await chat.run("never sent\x03", "sent\r", "/exit\r")
    assert [m["content"] for m in server.requests[0]["messages"]] == ["sent"]


async def test_two_ctrl_c_within_two_seconds_exit(chat):
    status = await chat.run("\x03\x03")
    assert status == 0
    assert chat.text.count("Press Ctrl-C again or Ctrl-D to exit") == 1


async def test_ctrl_c_presses_further_apart_do_not_exit(chat):
    ticks = iter(range(0, 100, 3))
    chat.clock = lambda: float(next(ticks))
    await chat.run("\x03\x03", "/exit\r")
    assert chat.text.count("Press Ctrl-C again or Ctrl-D to exit") == 2


# -- Ctrl-C during a turn (a real SIGINT) ----------------------------------------------------------------------
class Stall(httpx.AsyncByteStream):
    def __init__(self, lines):
        self.lines, self.closed = lines, False

    async def __aiter__(self):
        for line in self.lines:
            yield line
        try:
            await asyncio.sleep(3600)
        finally:
            self.closed = True

    async def aclose(self):
        self.closed = True


async def wait_for(condition):
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


async def test_sigint_during_a_reply_stops_the_stream_and_keeps_the_partial_answer(server):
    chunk = (
        json.dumps(
            {"model": "qwen3:8b", "created_at": "x", "message": {"role": "assistant", "content": "The answer is lo"}}
        ).encode()
        + b"\n"
    )
    stall = Stall([chunk])
    scripted = server.handle

    def handle(request):
        if request.url.path == "/api/chat" and not server.requests:
            server.requests.append({"stalled": True})
            return httpx.Response(200, stream=stall)
        return scripted(request)

    server.transport = httpx.MockTransport(handle)
    server.add_reply("Continuing.")
    chat = Chat(server)
    run = asyncio.create_task(chat.run("question\r", "go on\r", "/usage\r", "/exit\r", handle_signals=True))
    await wait_for(lambda: "The answer is lo" in chat.text)
    os.kill(os.getpid(), signal.SIGINT)
    assert await run == 0
    assert stall.closed, "the HTTP stream must be closed so Ollama stops generating"
    assert "^C interrupted: the partial answer is kept in the conversation" in chat.text
    messages = server.requests[1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == f"The answer is lo\n\n{INTERRUPTED_NOTE}"
    assert "interrupted 1" in chat.text


async def test_sigint_during_a_tool_cancels_it_and_records_an_interrupted_result(server):
    started = asyncio.Event()
    finished = []

    @tool
    async def slow_search(query: str) -> str:
        """Search slowly."""
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            finished.append("cancelled")
        return "never"

    server.add_reply(tool_calls=[("slow_search", {"query": "x"})])
    server.add_reply("Moving on.")
    chat = Chat(server, tools="slow_search")
    chat.extra_tools = {"slow_search": lambda: slow_search}
    run = asyncio.create_task(chat.run("search\r", "skip it\r", "/exit\r", handle_signals=True))
    await asyncio.wait_for(started.wait(), 5)
    os.kill(os.getpid(), signal.SIGINT)
    assert await run == 0
    assert finished == ["cancelled"]
    assert tool_results(server.requests[1]) == [TOOL_INTERRUPTED]
    assert "^C interrupted: the tool was stopped and its result recorded as interrupted" in chat.text
    assert "Moving on." in chat.text


@pytest.fixture(autouse=True)
def _restore_sigint():
    yield
    signal.signal(signal.SIGINT, signal.default_int_handler)


async def test_reject_then_always_in_one_reply_keeps_the_rejection(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "bad"}), ("run_python", {"code": "good"})])
    server.add_reply(tool_calls=[("run_python", {"code": "later"})])
    server.add_reply("Done.")
    chat = code_chat(server, ran)
    await chat.run("go\r", "n", "no\r", "a", "/exit\r")
    assert ran == ["good", "later"]
    assert chat.text.count("wants to run:") == 2
    results = tool_results(server.requests[1])
    assert "declined" in results[0] and results[1] == "ran good\nsecond line"


async def test_the_approval_question_answers_on_one_key_and_ignores_other_keys(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "rm()"})])
    server.add_reply("OK.")
    chat = code_chat(server, ran)
    await chat.run("go\r", "xq", "n", "not now\r", "/exit\r")  # no Enter after the n
    assert ran == []
    assert "not now" in tool_results(server.requests[1])[0]
