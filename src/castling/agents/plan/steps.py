"""The plan strategy's bookkeeping: the planner's and re-planner's decisions applied to the state, and one step.

A step is two nodes: the executor decides (one model call; the decision is stored as `PlanState.pending`), then
the act node asks for approval if needed and runs the tool. A resume after the approval question replays only the
act node, never the model call.

Kept apart from the graph so the sync and async nodes share every line that does not wait on I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.messages.tool import tool_call
from langgraph.types import StreamWriter

from castling.agents.approval import Approve, ask, needs_approval, rejected
from castling.agents.events import (
    PlanCreatedEvent,
    PlanRevisedEvent,
    StepFinishedEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from castling.agents.plan.schemas import Plan, Replan, StepAction, steps_to_dicts
from castling.agents.plan.state import PlanState, StepDict, add_usage, full_plan
from castling.agents.toolbox import Toolbox, ToolOutcome
from castling.backbones.base import Backbone
from castling.backbones.usage import Usage
from castling.backbones.wire import ChatTurn

NO_RESULT = "(the step produced no result)"


@dataclass(frozen=True)
class PendingCall:
    """The tool call a step decided on, coerced to the tool's schema."""

    call_id: str
    name: str
    arguments: dict[str, Any]


def pending_step(state: PlanState, action: StepAction, toolbox: Toolbox) -> dict[str, Any]:
    """The executor's decision as stored in the state (`PlanState.pending`) for the act node."""
    call = None
    if action.tool:
        call_id = f"call_{len(state['messages'])}"
        call = vars(PendingCall(call_id, action.tool, toolbox.coerce(action.tool, action.arguments)))
    return {"call": call, "answer": action.answer}


def approved(call: PendingCall, approve: Approve, toolbox: Toolbox) -> tuple[PendingCall, ToolOutcome | None]:
    """Ask about `call` if the policy wants it: the call to run (edited or not), and the rejection if refused.

    Pauses the run (LangGraph `interrupt()`); the act node replays from its start on resume, so nothing with a
    side effect may come before this.
    """
    if not needs_approval(approve, call.name, call.arguments):
        return call, None
    decision = ask(tool_call(name=call.name, args=call.arguments, id=call.call_id))
    if decision.action == "reject":
        return call, rejected(decision.reason)
    if decision.action == "edit" and decision.arguments is not None:
        return replace(call, arguments=toolbox.coerce(call.name, decision.arguments)), None
    return call, None


@dataclass
class StepRun:
    """One plan step between the executor's decision and its outcome: the act node's work."""

    state: PlanState
    writer: StreamWriter
    call: PendingCall | None = None
    answer: str | None = None
    outcome: ToolOutcome | None = None

    @classmethod
    def pending(cls, state: PlanState, writer: StreamWriter) -> StepRun:
        """The step the executor decided on (`PlanState.pending`)."""
        pending = state.get("pending") or {}
        call = pending.get("call")
        return cls(state, writer, PendingCall(**call) if call else None, pending.get("answer"))

    def announce(self) -> None:
        """The call is about to run (after any approval, with the arguments that will run)."""
        if self.call is not None:
            self.writer(ToolCallEvent(self.call.call_id, self.call.name, self.call.arguments))

    def finish(self) -> dict[str, Any]:
        """The state update for the finished step (and its events)."""
        messages: list[Any] = []
        calls: list[dict[str, Any]] = []
        outcome, error = (self.answer or "").strip() or NO_RESULT, None
        if self.call is not None and self.outcome is not None:
            outcome, error = self.outcome.content, self.outcome.error
            self.writer(ToolResultEvent(self.call.call_id, self.call.name, outcome, error))
            messages = call_messages(self.call, self.outcome)
            calls = [{**vars(self.call), "result": outcome, "error": error}]
        step = self.state["plan"][0]
        index = len(self.state.get("past_steps", [])) + 1
        goal = str(step["goal"])
        self.writer(StepFinishedEvent(index, goal, outcome, error))
        record = {"goal": goal, "tool": step.get("tool"), "tool_calls": calls, "outcome": outcome, "error": error}
        return {
            "messages": messages,
            "past_steps": [*self.state.get("past_steps", []), record],
            "plan": list(self.state["plan"][1:]),
            "steps": self.state.get("steps", 0) + 1,
            "pending": None,
        }


def call_messages(call: PendingCall, outcome: ToolOutcome, extra: dict[str, Any] | None = None) -> list[Any]:
    """The step's call and its result as conversation messages (an assistant tool call, then the tool message)."""
    request = AIMessage(
        "", tool_calls=[{"name": call.name, "args": call.arguments, "id": call.call_id, "type": "tool_call"}]
    )
    result = ToolMessage(
        outcome.content,
        tool_call_id=call.call_id,
        name=call.name,
        status="error" if outcome.error else "success",
        additional_kwargs={**({"error": outcome.error} if outcome.error else {}), **(extra or {})},
    )
    return [request, result]


def text_action(backbone: Backbone, turn: ChatTurn, tool_names: Collection[str]) -> StepAction | None:
    """A step action from a reply that ignored the schema: a call written as text, or `[]` for "no call"."""
    if turn.content.strip() == "[]":
        return StepAction(tool=None, answer=None)
    reply = backbone.read_reply(turn, with_tools=True, tool_names=tool_names)
    if reply.calls:
        first = reply.calls[0]  # one tool per step: the plan has a step for each
        return StepAction(tool=first.name, arguments=dict(first.arguments))
    return None


def planned(plan: Plan, usage: Usage, rejected: int, unknown: bool, writer: StreamWriter) -> dict[str, Any]:
    """Apply the planner's plan: the run's fresh state (an answer if it has no steps, a stop on unknown tools)."""
    steps = steps_to_dicts(plan.steps)
    reason = "created" if not rejected else f"created after {rejected} re-plan(s) that named unknown tools"
    writer(PlanCreatedEvent(plan_tuples(steps)))
    answer = (plan.answer or "").strip() if not steps else ""
    return {
        "plan": steps,
        "plan_history": [{"steps": steps, "reason": reason}],
        "past_steps": [],
        "steps": 0,
        "replans": rejected,
        "answer": answer or None,
        "stop": "max_replans" if unknown else None,
        "usage": add_usage({}, usage),
        "revise": False,
        "checked_at": 0,
        "pending": None,
    }


def replanned(
    state: PlanState,
    decision: Replan,
    usage: dict[str, Any],
    rejected: int,
    unknown: bool,
    limits: tuple[int, int],
    writer: StreamWriter,
) -> dict[str, Any]:
    """Apply the re-planner's decision: answer, continue, revise (within max_replans) or stop at a limit."""
    max_steps, max_replans = limits
    replans = state.get("replans", 0) + rejected
    update: dict[str, Any] = {"usage": usage, "replans": replans}
    if unknown:
        return {**update, "stop": "max_replans"}
    if decision.done:
        return {**update, "plan": [], "answer": (decision.answer or "").strip() or None}
    new = steps_to_dicts(decision.steps)
    update["plan"] = new
    if not new:
        return update  # nothing left and no answer: the responder writes one
    if state.get("revise") or _changed(new, state.get("plan", [])):
        if replans >= max_replans:
            return {**update, "stop": "max_replans"}
        past = state.get("past_steps", [])
        whole, reason = full_plan(past, new), f"revised after step {len(past)}"
        update["replans"] = replans + 1
        update["plan_history"] = [*state.get("plan_history", []), {"steps": whole, "reason": reason}]
        writer(PlanRevisedEvent(plan_tuples(whole), replans + 1, reason))
    if state.get("steps", 0) >= max_steps:
        update["stop"] = "max_steps"
    return update


def plan_tuples(steps: Sequence[StepDict]) -> tuple[tuple[str, str | None], ...]:
    """Plan steps as `(goal, tool)` pairs for events."""
    return tuple((str(s["goal"]), s.get("tool")) for s in steps)


def _changed(new: Sequence[StepDict], old: Sequence[StepDict]) -> bool:
    # Without an explicit "revise" from the executor, a revision changes the plan's shape: how many steps remain,
    # or which tool each uses. Rewording a goal, or writing into it what the last step found ("the second city"
    # -> "Lyon"), is not one: counting it would spend max_replans on a plan that never changed.
    return [s.get("tool") for s in new] != [s.get("tool") for s in old]
