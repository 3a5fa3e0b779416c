"""The chat asks before a plan step's tool runs (Llama plans by default; /strategy plan with any backbone)."""

import pytest

from castling.agents.interruption import INTERRUPTED_NOTE
from castling.testing import ScriptedOllama
from tests.agents.plan_script import act, done, last_user, plan
from tests.cli.test_chat_approval_and_ctrl_c import code_chat

COMPUTE = ("Compute 6*7 with Python", "run_python")


@pytest.fixture
def llama():
    return ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))


def script(server, code="print(6*7)", answer="It is 42."):
    server.add_reply(plan(COMPUTE))
    server.add_reply(act("run_python", code=code))
    server.add_reply(done(answer))


async def test_llama_keeps_its_plan_strategy_and_asks_before_the_step_runs(llama):
    ran = []
    script(llama)
    chat = code_chat(llama, ran)
    await chat.run("what is 6*7?\r", "\r", "/exit\r")
    assert "strategy plan" in chat.text and "warning: using the tools strategy" not in chat.text
    shown = chat.text
    assert shown.index("▸ step 1: Compute 6*7 with Python") < shown.index("run_python wants to run:")
    assert "    print(6*7)" in shown and shown.index("run_python wants to run:") < shown.index("It is 42.")
    assert ran == ["print(6*7)"]
    assert llama.nodes == ["planner", "decide", "replanner"]  # the answer did not repeat the executor's call
    assert "ran print(6*7)" in last_user(llama.requests[2])


async def test_reject_in_a_plan_step_gives_the_replanner_the_reason(llama):
    ran = []
    script(llama, answer="Without running code: 42.")
    chat = code_chat(llama, ran)
    await chat.run("what is 6*7?\r", "n", "no code today\r", "/exit\r")
    assert ran == []
    replanner = last_user(llama.requests[2])
    assert "declined" in replanner and "no code today" in replanner
    assert "Without running code: 42." in chat.text


async def test_edit_in_a_plan_step_runs_the_edited_code(llama):
    ran = []
    script(llama, code="print(6*6)")
    chat = code_chat(llama, ran)
    await chat.run("what is 6*7?\r", "e", "\x15print(6*7)\x1b\r", "/exit\r")
    assert ran == ["print(6*7)"]
    assert "ran print(6*7)" in last_user(llama.requests[2])


async def test_never_mode_in_a_plan_step_rejects_without_asking(llama):
    ran = []
    script(llama, answer="I may not run code.")
    chat = code_chat(llama, ran, approve="run_python=never")
    await chat.run("what is 6*7?\r", "/exit\r")
    assert ran == [] and "wants to run" not in chat.text
    assert "approval mode 'never'" in last_user(llama.requests[2])


async def test_strategy_plan_works_while_a_tool_must_ask(server):
    ran = []
    script(server)
    chat = code_chat(server, ran)
    await chat.run("/strategy plan\r", "what is 6*7?\r", "\r", "/exit\r")
    assert "strategy: plan" in chat.text and "error:" not in chat.text
    assert chat.text.count("run_python wants to run:") == 1 and ran == ["print(6*7)"]
    assert server.nodes == ["planner", "decide", "replanner"]


async def test_ctrl_c_at_a_plan_steps_question_keeps_the_session_valid(llama):
    ran = []
    llama.add_reply(plan(COMPUTE))
    llama.add_reply(act("run_python", code="print(6*7)"))
    llama.add_reply(plan(answer="Starting over."))
    chat = code_chat(llama, ran)
    await chat.run("what is 6*7?\r", "\x03", "next\r", "/exit\r")
    assert ran == [] and "^C interrupted" in chat.text and "could not be written" not in chat.text
    wire = llama.requests[2]["messages"]  # the next turn's planner sees the interrupted turn, closed
    assert [m["role"] for m in wire] == ["system", "user", "assistant", "user"]
    assert wire[2]["content"] == INTERRUPTED_NOTE and "Starting over." in chat.text


async def test_resuming_a_plan_session_that_stopped_at_an_approval_marks_the_step_interrupted(llama, data_dir):
    from castling import Agent, ApprovalEvent, Llama
    from castling.cli.sessions import SessionIndex, open_checkpointer

    ran = []
    chat = code_chat(llama, ran)
    tool = chat.extra_tools["run_python"]()
    data_dir.mkdir(parents=True, exist_ok=True)
    llama.add_reply(plan(COMPUTE))
    llama.add_reply(act("run_python", code="print(6*7)"))
    async with open_checkpointer(data_dir / "checkpoints.db") as saver:
        agent = Agent(Llama(llama.model, transport=llama.transport), [tool], checkpointer=saver, approve={"run_python"})
        events = [e async for e in agent.astream("what is 6*7?", thread_id="abc12345")]
    assert isinstance(events[-1], ApprovalEvent)  # the process "died" here, waiting for the user
    SessionIndex(data_dir / "sessions.db").touch("abc12345", "what is 6*7?", llama.model)
    llama.add_reply(plan(answer="Starting over."))
    await chat.run("/resume abc12345\r", "never mind\r", "/exit\r")
    assert ran == [] and "marked interrupted" in chat.text
    wire = llama.requests[2]["messages"]
    assert [m["role"] for m in wire] == ["system", "user", "assistant", "user"]
    assert wire[2]["content"] == INTERRUPTED_NOTE and "Starting over." in chat.text
