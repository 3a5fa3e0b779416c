"""The plan strategy's step bookkeeping: one executed step, and the re-planner's decision applied to the state.

Kept apart from the graph so the sync and async nodes share every line that does not wait on I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.types import StreamWriter

from castling.agents.events import PlanRevisedEvent, StepFinishedEvent, ToolCallEvent, ToolResultEvent
from castling.agents.plan_schemas import Replan, StepAction, steps_to_dicts
from castling.agents.plan_state import PlanState, StepDict, add_usage, full_plan
from castling.agents.toolbox import Toolbox, ToolOutcome
from castling.backbones.base import Backbone
from castling.backbones.usage import Usage
from castling.backbones.wire import ChatTurn, WireMessage

NO_RESULT = "(the step produced no result)"


@dataclass(frozen=True)
class PendingCall:
    """The tool call a step decided on, coerced to the tool's schema."""

    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class StepRun:
    """One plan step in progress: the executor's decision, the tool's outcome, the state update."""

    state: PlanState
    step: StepDict
    index: int
    messages: list[WireMessage]
    writer: StreamWriter
    toolbox: Toolbox
    action: StepAction | None = None
    usage: Usage = field(default_factory=Usage)
    call: PendingCall | None = None
    outcome: ToolOutcome | None = None

    def decide(self, action: StepAction, usage: Usage) -> PendingCall | None:
        """Record the executor's action; the tool call to run, if it asked for one."""
        self.action, self.usage = action, usage
        if not action.tool:
            return None
        call_id = f"call_{len(self.state['messages'])}"
        self.call = PendingCall(call_id, action.tool, self.toolbox.coerce(action.tool, action.arguments))
        self.writer(ToolCallEvent(call_id, self.call.name, self.call.arguments))
        return self.call

    def finish(self) -> dict[str, Any]:
        """The state update for the finished step (and its events)."""
        messages: list[Any] = []
        calls: list[dict[str, Any]] = []
        outcome, error = ((self.action.answer if self.action else None) or "").strip() or NO_RESULT, None
        if self.call is not None and self.outcome is not None:
            outcome, error = self.outcome.content, self.outcome.error
            self.writer(ToolResultEvent(self.call.call_id, self.call.name, outcome, error))
            messages = _call_messages(self.call, self.outcome)
            calls = [{**vars(self.call), "result": outcome, "error": error}]
        goal = str(self.step["goal"])
        self.writer(StepFinishedEvent(self.index, goal, outcome, error))
        record = {"goal": goal, "tool": self.step.get("tool"), "tool_calls": calls, "outcome": outcome, "error": error}
        return {
            "messages": messages,
            "past_steps": [*self.state.get("past_steps", []), record],
            "plan": list(self.state["plan"][1:]),
            "steps": self.state.get("steps", 0) + 1,
            "usage": add_usage(self.state, self.usage),
        }


def _call_messages(call: PendingCall, outcome: ToolOutcome) -> list[Any]:
    request = AIMessage(
        "", tool_calls=[{"name": call.name, "args": call.arguments, "id": call.call_id, "type": "tool_call"}]
    )
    result = ToolMessage(
        outcome.content,
        tool_call_id=call.call_id,
        name=call.name,
        status="error" if outcome.error else "success",
        additional_kwargs={"error": outcome.error} if outcome.error else {},
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


def _words(text: Any) -> str:
    return " ".join(re.findall(r"\w+", str(text).casefold()))
