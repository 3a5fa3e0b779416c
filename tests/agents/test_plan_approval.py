"""Approval before a tool runs, under the plan strategy (constructed Ollama replies through ScriptedOllama).

The executor is two graph nodes (decide: the model call; act: the approval question and the tool), so a resume
after the question replays only the act node: the model is never asked twice for the same step.
"""

import asyncio
import json

import pytest

from castling import Agent, ApprovalEvent, ConfigError, Decision, FinalEvent, Llama, Resume, tool
from castling.agents.interruption import INTERRUPTED_NOTE, TOOL_INTERRUPTED
from castling.testing import ScriptedOllama
from tests.agents.plan_script import act, done, last_user, more, plan

COMPUTE = ("Compute 6*7 with Python", "run_python")
CHECK = ("Check the result with Python", "run_python")
TASK = "What is 6*7? Use Python."


def code_tool(ran):
    @tool
    def run_python(code: str) -> str:
        """Run Python code."""
        ran.append(code)
        return f"ran {code}"

    return run_python


def agent(server, ran, **kwargs):
    return Agent(Llama(server.model, transport=server.transport), [code_tool(ran)], **kwargs)


def one_step(server, code="print(6*7)", answer="6*7 = 42."):
    server.add_reply(plan(COMPUTE))
    server.add_reply(act("run_python", code=code))
    server.add_reply(done(answer))


@pytest.fixture
def server():
    return ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))


async def collect(agent, task, thread_id):
    return [event async for event in agent.astream(task, thread_id=thread_id)]


async def test_plan_step_waits_for_approval_and_resume_does_not_ask_the_model_again(server):
    ran = []
    one_step(server)
    smart = agent(server, ran, approve={"run_python"})
    assert smart.strategy == "plan"  # Llama's default: approval no longer needs the tools strategy
    first = await collect(smart, TASK, "p1")
    assert isinstance(first[-1], ApprovalEvent)
    assert (first[-1].name, first[-1].arguments, first[-1].thread_id) == ("run_python", {"code": "print(6*7)"}, "p1")
    assert ran == [] and server.nodes == ["planner", "decide"]
    assert [e.kind for e in first if e.kind != "usage"] == ["plan_created", "step_started", "approval"]

    second = await collect(smart, Resume(Decision("run")), "p1")
    assert ran == ["print(6*7)"]
    assert server.nodes == ["planner", "decide", "replanner"] and server.pending == 0
    assert [e.kind for e in second if e.kind not in ("usage", "text")] == [
        "tool_call",
        "tool_result",
        "step_finished",
        "final",
    ]
    result = second[-1].result
    assert result.answer == "6*7 = 42." and result.steps[0].outcome == "ran print(6*7)"
    assert result.usage.calls == 3  # the usage of the call made before the pause is kept

    baseline = ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    one_step(baseline)
    await agent(baseline, []).arun(TASK)
    assert server.requests == baseline.requests  # the same wire traffic as a run that never asked


def test_sync_stream_pauses_and_resumes_without_repeating_the_executor_call(server):
    ran = []
    one_step(server)
    smart = agent(server, ran, approve={"run_python"})
    events = list(smart.stream(TASK, thread_id="s1"))
    assert isinstance(events[-1], ApprovalEvent) and ran == []
    events = list(smart.stream(Resume(Decision("run")), thread_id="s1"))
    assert ran == ["print(6*7)"] and events[-1].result.answer == "6*7 = 42."
    assert server.nodes == ["planner", "decide", "replanner"]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_edit_runs_the_edited_arguments_and_the_records_show_them(server, mode):
    ran = []
    one_step(server, code="print(6*6)")
    smart = agent(server, ran, approve=lambda name, args: name == "run_python")
    decision = Resume(Decision("edit", {"code": "print(6*7)"}))
    if mode == "sync":
        list(smart.stream(TASK, thread_id="e1"))
        events = list(smart.stream(decision, thread_id="e1"))
    else:
        await collect(smart, TASK, "e1")
        events = await collect(smart, decision, "e1")
    assert ran == ["print(6*7)"]
    call_event = next(e for e in events if e.kind == "tool_call")
    assert call_event.arguments == {"code": "print(6*7)"}
    result = events[-1].result
    assert [(c.arguments, c.result) for c in result.tool_calls] == [({"code": "print(6*7)"}, "ran print(6*7)")]
    assert result.steps[0].tool_calls[0].arguments == {"code": "print(6*7)"}
    assert "ran print(6*7)" in last_user(server.requests[2])
    assert server.nodes == ["planner", "decide", "replanner"]


async def test_edited_arguments_are_validated_like_any_call(server):
    ran = []
    one_step(server, answer="The call failed.")
    smart = agent(server, ran, approve={"run_python"})
    await collect(smart, TASK, "e2")
    events = await collect(smart, Resume(Decision("edit", {"source": "print(1)"})), "e2")
    assert ran == []
    step = events[-1].result.steps[0]
    assert step.error and "code" in step.outcome  # the missing argument is named, as for a model's bad call
    assert step.outcome in last_user(server.requests[2])


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_rejection_is_the_step_outcome_the_replanner_reads(server, mode):
    ran = []
    server.add_reply(plan(COMPUTE))
    server.add_reply(act("run_python", code="import os"))
    server.add_reply(more(("Answer from memory", None)))  # the re-planner works around the refusal
    server.add_reply(act(answer="42"))
    server.add_reply(done("6*7 is 42 (computed without Python)."))
    smart = agent(server, ran, approve={"run_python"})
    decision = Resume(Decision("reject", reason="no imports, please"))
    if mode == "sync":
        list(smart.stream(TASK, thread_id="r1"))
        events = list(smart.stream(decision, thread_id="r1"))
    else:
        await collect(smart, TASK, "r1")
        events = await collect(smart, decision, "r1")
    assert ran == []
    result = events[-1].result
    first = result.steps[0]
    assert "declined" in first.outcome and "no imports, please" in first.outcome
    assert first.error == "rejected by the user"
    assert first.outcome in last_user(server.requests[2])  # the re-planner's prompt
    assert server.nodes == ["planner", "decide", "replanner", "decide", "replanner"]
    assert result.answer == "6*7 is 42 (computed without Python)."
    rejected = next(e for e in events if e.kind == "tool_result")
    assert rejected.error == "rejected by the user"


async def test_a_policy_that_always_refuses_never_runs_the_tool(server):
    """The chat's "never" mode answers every question with a rejection; the plan goes on without the tool."""
    ran = []
    one_step(server, answer="I may not run code here.")
    smart = agent(server, ran, approve={"run_python"})
    events = await collect(smart, TASK, "n1")
    while isinstance(events[-1], ApprovalEvent):
        events = await collect(smart, Resume(Decision("reject", reason="mode never")), "n1")
    assert ran == [] and events[-1].result.answer == "I may not run code here."
    assert "mode never" in last_user(server.requests[2])


async def test_when_needed_replanning_still_skips_the_replanner_with_approval(server):
    ran = []
    step = {"plan": "on_track", "tool": "run_python", "arguments": {"code": "1"}, "answer": None}
    server.add_reply(plan(COMPUTE, CHECK))
    server.add_reply(json.dumps(step))
    server.add_reply(json.dumps({**step, "arguments": {"code": "2"}}))
    server.add_reply(done("Both ran."))
    smart = agent(server, ran, approve={"run_python"}, replan="when_needed")
    events = await collect(smart, TASK, "w1")
    while isinstance(events[-1], ApprovalEvent):
        events = await collect(smart, Resume(Decision("run")), "w1")
    assert ran == ["1", "2"]
    assert server.nodes == ["planner", "decide", "decide", "replanner"]
    assert isinstance(events[-1], FinalEvent) and events[-1].result.answer == "Both ran."


async def test_interrupted_at_the_approval_question_leaves_a_valid_plan_state(server):
    ran = []
    server.add_reply(plan(COMPUTE))
    server.add_reply(act("run_python", code="print(6*7)"))
    server.add_reply(plan(answer="Hello again."))
    smart = agent(server, ran, approve={"run_python"})
    assert isinstance((await collect(smart, TASK, "i1"))[-1], ApprovalEvent)
    await smart.arecord_interruption("i1")  # Ctrl-C at the question: the chat stops the turn
    state = await smart.graph.aget_state({"configurable": {"thread_id": "i1"}})
    assert state.next == () and not state.values["pending"]
    roles = [m.type for m in state.values["messages"]]
    assert roles == ["human", "ai", "tool", "ai"]
    assert state.values["messages"][2].text == TOOL_INTERRUPTED and INTERRUPTED_NOTE in state.values["messages"][3].text
    assert state.values["past_steps"][0]["error"] == "interrupted by user" and state.values["plan"] == []
    result = (await collect(smart, "hi", "i1"))[-1].result
    assert ran == [] and result.answer == "Hello again."
    wire = server.requests[-1]["messages"]  # the next planner reads the turn and its interrupted reply
    assert [m["role"] for m in wire] == ["system", "user", "assistant", "user"]
    assert wire[2]["content"] == INTERRUPTED_NOTE


async def test_interrupted_while_the_plan_tool_runs_records_the_step_as_interrupted(server):
    started = asyncio.Event()

    @tool
    async def run_python(code: str) -> str:
        """Run Python code (forever)."""
        started.set()
        await asyncio.sleep(3600)
        return "never"

    server.add_reply(plan(COMPUTE))
    server.add_reply(act("run_python", code="print(6*7)"))
    server.add_reply(plan(answer="Fresh start."))
    smart = Agent(Llama(server.model, transport=server.transport), [run_python])
    task = asyncio.create_task(collect(smart, TASK, "i2"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await smart.arecord_interruption("i2")
    state = await smart.graph.aget_state({"configurable": {"thread_id": "i2"}})
    assert state.next == ()
    call, result = state.values["messages"][1:3]
    assert call.tool_calls[0]["args"] == {"code": "print(6*7)"} and result.tool_call_id == call.tool_calls[0]["id"]
    assert result.text == TOOL_INTERRUPTED
    events = await collect(smart, "and now?", "i2")
    assert events[-1].result.answer == "Fresh start."
    assert server.nodes == ["planner", "decide", "planner"]


async def test_interrupted_mid_answer_keeps_the_partial_answer_in_a_plan_thread(server):
    server.add_reply(plan(answer="Hello there."))
    smart = agent(server, [])
    await collect(smart, "hi", "i3")  # finished: nothing to record
    await smart.arecord_interruption("i3", "Hello there.")
    state = await smart.graph.aget_state({"configurable": {"thread_id": "i3"}})
    assert [m.text for m in state.values["messages"]] == ["hi", "Hello there."]


async def test_run_cannot_ask_so_it_says_to_use_stream(server):
    ran = []
    one_step(server)
    with pytest.raises(ConfigError, match="use agent.stream"):
        await agent(server, ran, approve={"run_python"}).arun(TASK)
    assert ran == [] and server.nodes == ["planner", "decide"]


async def test_a_rejected_step_goes_to_the_replanner_with_when_needed(server):
    ran = []
    step = {"plan": "on_track", "tool": "run_python", "arguments": {"code": "1"}, "answer": None}
    server.add_reply(plan(COMPUTE, CHECK))
    server.add_reply(json.dumps(step))
    server.add_reply(done("Stopped: the user declined."))
    smart = agent(server, ran, approve={"run_python"}, replan="when_needed")
    await collect(smart, TASK, "w2")
    events = await collect(smart, Resume(Decision("reject", reason="not now")), "w2")
    assert ran == [] and server.nodes == ["planner", "decide", "replanner"]
    assert "not now" in last_user(server.requests[2])
    assert events[-1].result.answer == "Stopped: the user declined."
