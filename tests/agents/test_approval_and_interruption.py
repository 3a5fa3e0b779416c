"""Approval through LangGraph interrupts, and history repair after a cancelled run."""

import asyncio

import httpx
import pytest

from castling import Agent, ApprovalEvent, ConfigError, Decision, FinalEvent, Qwen, Resume, tool
from castling.agents.interruption import INTERRUPTED_NOTE, TOOL_INTERRUPTED
from castling.errors import CastlingError
from castling.testing import ScriptedOllama


def make(server, tools, **kwargs):
    return Agent(Qwen("qwen3:8b", transport=server.transport), tools, **kwargs)


def code_tool(ran):
    @tool
    def run_python(code: str) -> str:
        """Run Python code."""
        ran.append(code)
        return f"ran {code}"

    return run_python


async def collect(agent, task, thread_id):
    return [event async for event in agent.astream(task, thread_id=thread_id)]


async def test_call_waits_for_approval_and_runs_once_approved():
    ran = []
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("run_python", {"code": "1+1"})])
    server.add_reply("Two.")
    agent = make(server, [code_tool(ran)], approve={"run_python"})
    events = await collect(agent, "add", "t1")
    assert isinstance(events[-1], ApprovalEvent)
    assert events[-1].arguments == {"code": "1+1"} and events[-1].thread_id == "t1"
    assert ran == []
    events = await collect(agent, Resume(Decision("run")), "t1")
    assert ran == ["1+1"]
    assert isinstance(events[-1], FinalEvent) and events[-1].result.answer == "Two."


async def test_edit_runs_the_edited_arguments_and_history_shows_them():
    ran = []
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("run_python", {"code": "1+1"})])
    server.add_reply("Six.")
    agent = make(server, [code_tool(ran)], approve=lambda name, args: name == "run_python")
    await collect(agent, "add", "t2")
    events = await collect(agent, Resume(Decision("edit", {"code": "3+3"})), "t2")
    assert ran == ["3+3"]
    result = events[-1].result
    assert result.tool_calls[0].arguments == {"code": "3+3"}
    assert result.tool_calls[0].result == "ran 3+3"


async def test_rejection_reason_reaches_the_model_and_nothing_runs():
    ran = []
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("run_python", {"code": "rm()"})])
    server.add_reply("OK, I will not.")
    agent = make(server, [code_tool(ran)], approve={"run_python"})
    await collect(agent, "go", "t3")
    events = await collect(agent, Resume(Decision("reject", reason="too risky")), "t3")
    assert ran == []
    tool_wire = [m for m in server.requests[1]["messages"] if m["role"] == "tool"]
    assert "declined" in tool_wire[0]["content"] and "too risky" in tool_wire[0]["content"]
    assert events[-1].result.answer == "OK, I will not."


async def test_approval_without_thread_id_creates_one_and_resume_needs_it():
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("run_python", {"code": "x"})])
    agent = make(server, [code_tool([])], approve={"run_python"})
    events = [e async for e in agent.astream("go")]
    assert events[-1].thread_id.startswith("run-")
    with pytest.raises(ConfigError, match="thread_id"):
        [e async for e in agent.astream(Resume())]


class Stall(httpx.AsyncByteStream):
    """Streams a few chunks, then hangs until the client gives up; records the close."""

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


async def test_cancelled_reply_keeps_partial_answer_marked_interrupted():
    server = ScriptedOllama()
    chunk = (
        b'{"model":"qwen3:8b","created_at":"x","message":{"role":"assistant","content":"Partial ans"},"done":false}\n'
    )
    stall = Stall([chunk])

    def handle(request):
        if request.url.path == "/api/chat":
            return httpx.Response(200, stream=stall)
        return server.handle(request)

    agent = Agent(Qwen("qwen3:8b", transport=httpx.MockTransport(handle)), [])
    seen = []

    async def consume():
        async for event in agent.astream("hello", thread_id="t4"):
            seen.append(event)

    task = asyncio.create_task(consume())
    while not seen:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stall.closed
    await agent.arecord_interruption("t4", "Partial ans")
    state = await agent.graph.aget_state({"configurable": {"thread_id": "t4"}})
    last = state.values["messages"][-1]
    assert last.type == "ai" and last.text.startswith("Partial ans") and INTERRUPTED_NOTE in last.text
    assert state.next == ()


async def test_cancelled_tool_gets_interrupted_results_so_history_stays_valid():
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("slow", {}), ("slow", {})])
    server.add_reply("Fine.")
    started = asyncio.Event()

    @tool
    async def slow() -> str:
        """Take forever."""
        started.set()
        await asyncio.sleep(3600)
        return "never"

    agent = make(server, [slow])
    task = asyncio.create_task(collect(agent, "go", "t5"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await agent.arecord_interruption("t5")
    events = await collect(agent, "and now?", "t5")
    wire = server.requests[1]["messages"]
    assert [m["role"] for m in wire] == ["user", "assistant", "tool", "tool", "user"]
    assert wire[2]["content"] == TOOL_INTERRUPTED
    assert events[-1].result.answer == "Fine."


async def test_resume_after_a_cancelled_tool_goes_on_to_the_model_with_the_interrupted_results():
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("slow", {})])
    server.add_reply("Fine without it.")
    started = asyncio.Event()

    @tool
    async def slow() -> str:
        """Take forever."""
        started.set()
        await asyncio.sleep(3600)
        return "never"

    agent = make(server, [slow])
    task = asyncio.create_task(collect(agent, "go", "t7"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await agent.arecord_interruption("t7")
    result = await agent.aresume(thread_id="t7")  # the run had not ended: the model gets the tool's outcome
    assert result.answer == "Fine without it."
    assert [m["role"] for m in server.requests[1]["messages"]] == ["user", "assistant", "tool"]
    assert server.requests[1]["messages"][2]["content"] == TOOL_INTERRUPTED


async def test_approval_survives_a_sqlite_checkpointer_and_a_policy_change(tmp_path):
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    ran, modes = [], {"run_python": "ask"}
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("run_python", {"code": "a"})])
    server.add_reply("Done.")
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        agent = make(server, [code_tool(ran)], approve=lambda n, _: modes[n] == "ask", checkpointer=saver)
        assert isinstance((await collect(agent, "go", "t6"))[-1], ApprovalEvent)
        modes["run_python"] = "auto"  # "always for this tool": the replayed node no longer asks, and runs
        events = await collect(agent, Resume(Decision("run")), "t6")
    assert ran == ["a"]
    assert events[-1].result.answer == "Done."


def test_sync_stream_pauses_and_resumes_too():
    ran = []
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("run_python", {"code": "x"})])
    server.add_reply("Done.")
    agent = make(server, [code_tool(ran)], approve={"run_python"})
    events = list(agent.stream("go", thread_id="s1"))
    assert isinstance(events[-1], ApprovalEvent) and ran == []
    events = list(agent.stream(Resume(Decision("run")), thread_id="s1"))
    assert ran == ["x"] and events[-1].result.answer == "Done."


async def test_run_cannot_ask_so_it_says_to_use_stream():
    ran = []
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("run_python", {"code": "x"})])
    agent = make(server, [code_tool(ran)], approve={"run_python"})
    with pytest.raises(ConfigError, match="use agent.stream"):
        await agent.arun("go")
    assert ran == []


async def test_a_reply_cut_by_a_server_error_is_recorded_with_the_error():
    server = ScriptedOllama()
    chunk = {"model": "qwen3:8b", "message": {"role": "assistant", "content": "Half of it"}, "done": False}
    server.add_lines([chunk, {"error": "model runner crashed"}])
    server.add_reply("All of it.")
    agent = make(server, [])
    said = []

    async def consume():
        async for event in agent.astream("explain", thread_id="t6"):
            said.append(getattr(event, "text", ""))

    with pytest.raises(CastlingError, match="model runner crashed"):
        await consume()
    assert "".join(said) == "Half of it"
    await agent.arecord_interruption("t6", "Half of it", error="model runner crashed")
    state = await agent.graph.aget_state({"configurable": {"thread_id": "t6"}})
    last = state.values["messages"][-1]
    assert last.type == "ai" and last.text.startswith("Half of it")
    assert "[reply cut off by an error: model runner crashed]" in last.text and INTERRUPTED_NOTE not in last.text
    assert last.additional_kwargs["error"] == "model runner crashed"
    await collect(agent, "again", "t6")
    wire = server.requests[1]["messages"]
    assert [m["role"] for m in wire] == ["user", "assistant", "user"]
