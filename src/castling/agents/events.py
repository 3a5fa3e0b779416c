"""Typed events an agent streams while it runs.

`agent.stream(...)` yields these in order: model output as it arrives (`TextDelta`, `ThinkingDelta`), each tool
call before it runs (`ToolCallEvent`) and after (`ToolResultEvent`), the tokens of each model call
(`UsageEvent`), a `CompactionEvent` when a request was shrunk to fit the context window, and finally the whole
result (`FinalEvent`), or an `ApprovalEvent` when the run paused for the user's approval of a tool call.
The plan strategy adds `PlanCreatedEvent`, `PlanRevisedEvent`, `StepStartedEvent` and `StepFinishedEvent`
around its steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from castling.backbones.context import Compaction
from castling.backbones.usage import Usage

if TYPE_CHECKING:
    from castling.agents.result import RunResult


@dataclass(frozen=True)
class TextDelta:
    """A piece of the model's answer text."""

    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class ThinkingDelta:
    """A piece of the model's thinking (kept apart from the answer)."""

    text: str
    kind: Literal["thinking"] = "thinking"


@dataclass(frozen=True)
class ToolCallEvent:
    """The model asked for a tool; it is about to run."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    recovered: bool = False
    """True when the call was recovered from the model's text, not sent as a structured call."""
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True)
class ToolResultEvent:
    """A tool finished (or failed: `error` says why; the model reads `result` either way)."""

    call_id: str
    name: str
    result: str
    error: str | None = None
    kind: Literal["tool_result"] = "tool_result"


@dataclass(frozen=True)
class UsageEvent:
    """Tokens and model time of the model call that just finished."""

    usage: Usage
    kind: Literal["usage"] = "usage"


@dataclass(frozen=True)
class CompactionEvent:
    """The request was compacted to fit the context window (the checkpoint keeps the full history)."""

    tokens_before: int
    tokens_after: int
    window: int
    elided: tuple[str, ...]
    """One line per shrunk tool result."""
    summarised: int = 0
    """Messages of older turns replaced by a summary the model wrote (one extra model call)."""
    summary: str = ""
    kind: Literal["compaction"] = "compaction"

    @property
    def text(self) -> str:
        """One line for the user."""
        did = [f"{len(self.elided)} old tool result(s) shortened"] if self.elided else []
        did += [f"{self.summarised} older message(s) summarised"] if self.summarised else []
        return (
            f"context compacted to fit the {self.window:,}-token window: ~{self.tokens_before:,} → "
            f"~{self.tokens_after:,} tokens ({', '.join(did)})"
        )


@dataclass(frozen=True)
class PlanCreatedEvent:
    """The plan strategy made its plan: `steps` are `(goal, tool or None)` pairs, in order (empty: answer directly)."""

    steps: tuple[tuple[str, str | None], ...]
    kind: Literal["plan_created"] = "plan_created"


@dataclass(frozen=True)
class PlanRevisedEvent:
    """The re-planner changed the remaining plan; `revision` counts revisions in this run (1, 2, ...)."""

    steps: tuple[tuple[str, str | None], ...]
    revision: int
    reason: str
    kind: Literal["plan_revised"] = "plan_revised"


@dataclass(frozen=True)
class StepStartedEvent:
    """A plan step (numbered from 1) is about to run."""

    index: int
    goal: str
    kind: Literal["step_started"] = "step_started"


@dataclass(frozen=True)
class StepFinishedEvent:
    """A plan step finished; `outcome` is what the re-planner reads (a tool's result or the step's answer)."""

    index: int
    goal: str
    outcome: str
    error: str | None = None
    kind: Literal["step_finished"] = "step_finished"


@dataclass(frozen=True)
class ApprovalEvent:
    """The run paused: a tool call waits for the user's decision (resume with `Resume(Decision(...))`)."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    thread_id: str
    kind: Literal["approval"] = "approval"


@dataclass(frozen=True)
class FinalEvent:
    """The run is over; `result` is what `run()` would have returned."""

    result: RunResult
    kind: Literal["final"] = "final"


Event = (
    TextDelta
    | ThinkingDelta
    | ToolCallEvent
    | ToolResultEvent
    | UsageEvent
    | CompactionEvent
    | PlanCreatedEvent
    | PlanRevisedEvent
    | StepStartedEvent
    | StepFinishedEvent
    | ApprovalEvent
    | FinalEvent
)
"""Every event an agent streams; match on `kind` or the class."""


def compaction_event(compaction: Compaction) -> CompactionEvent:
    """The event for what the backbone's context guard did to one request."""
    c = compaction
    return CompactionEvent(c.tokens_before, c.tokens_after, c.window, c.elided, c.summarised, c.summary)
