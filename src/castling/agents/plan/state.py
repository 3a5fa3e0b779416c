"""The state a plan-strategy run keeps in its checkpoint, and how it becomes `RunResult.plan` / `.steps`.

Everything is plain dicts and lists so any checkpointer can store it. The planner resets the per-run fields,
so a thread that continues a conversation starts each run with a fresh plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from castling.agents.result import PlannedStep, PlanRecord, PlanRevision, RunResult, StepRecord, ToolCallRecord
from castling.agents.state import AgentState
from castling.backbones.usage import Usage

StepDict = dict[str, Any]
"""A plan step: `{"goal": str, "tool": str | None}`."""
PlanStop = Literal["max_steps", "max_replans"]
ReplanMode = Literal["every_step", "when_needed"]
REPLAN_MODES: tuple[ReplanMode, ...] = ("every_step", "when_needed")


class PlanState(AgentState, total=False):
    """Conversation, step counter (`steps` = plan steps executed) and the plan of the current run."""

    plan: list[StepDict]
    """Steps still to do."""
    plan_history: list[dict[str, Any]]
    """Every version of the plan: `{"steps": [...all steps...], "reason": str}`."""
    past_steps: list[dict[str, Any]]
    """Executed steps: `{"goal", "tool", "tool_calls": [...], "outcome", "error"}`."""
    replans: int
    answer: str | None
    stop: PlanStop | None
    usage: dict[str, Any]
    streamed: str
    """The part of the final answer already streamed as text deltas while the model wrote it."""
    revise: bool
    """`replan="when_needed"`: the executor said the plan must change; the re-planner runs next."""
    checked_at: int
    """Number of past steps when the plan was last made or checked (a second "revise" then is not honoured)."""
    pending: dict[str, Any] | None
    """The step the executor decided on and the act node has not finished: `{"call": {"call_id", "name",
    "arguments"} | None, "answer": str | None}`. Kept in the checkpoint so a resume after the approval question
    runs the tool without asking the model again."""


def add_usage(state: Mapping[str, Any], usage: Usage) -> dict[str, Any]:
    """The run's usage so far plus `usage`, as a dict for the state."""
    return dataclasses.asdict(Usage(**state.get("usage", {})) + usage)


def full_plan(past: Sequence[Mapping[str, Any]], remaining: Sequence[StepDict]) -> list[StepDict]:
    """The whole plan: the steps done (as planned) followed by those still to do."""
    return [{"goal": s["goal"], "tool": s.get("tool")} for s in past] + [dict(s) for s in remaining]


def with_plan(result: RunResult, state: Mapping[str, Any]) -> RunResult:
    """`result` with the plan, steps, usage and stop reason of a plan-strategy run (unchanged otherwise)."""
    history = state.get("plan_history")
    if not history:
        return result
    revisions = [PlanRevision(_steps(entry["steps"]), str(entry.get("reason", ""))) for entry in history]
    return dataclasses.replace(
        result,
        plan=PlanRecord(revisions[-1].steps, revisions),
        steps=[_step_record(step) for step in state.get("past_steps", [])],
        usage=Usage(**state.get("usage", {})),
        stop_reason=state.get("stop") or "answer",
    )


def _steps(steps: Sequence[Mapping[str, Any]]) -> list[PlannedStep]:
    return [PlannedStep(str(s["goal"]), s.get("tool")) for s in steps]


def _step_record(step: Mapping[str, Any]) -> StepRecord:
    calls = [
        ToolCallRecord(c["call_id"], c["name"], dict(c["arguments"]), c.get("result"), c.get("error"))
        for c in step.get("tool_calls", [])
    ]
    return StepRecord(str(step["goal"]), calls, str(step.get("outcome", "")), step.get("error"))
