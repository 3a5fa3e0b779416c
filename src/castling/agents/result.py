"""What a run returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from castling.agents.state import StopReason
from castling.backbones.usage import Usage

STOP_KEY = "castling_stop"
USAGE_KEY = "castling_usage"


@dataclass(frozen=True)
class ToolCallRecord:
    """One tool call of a run: what was asked, what came back."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    result: str | None
    error: str | None = None


@dataclass(frozen=True)
class PlannedStep:
    """One step of a plan: its goal and the tool it expects to use (None: no tool)."""

    goal: str
    tool: str | None = None


@dataclass(frozen=True)
class PlanRevision:
    """A version of the plan (all its steps, done and to do) and why it was made."""

    steps: list[PlannedStep]
    reason: str


@dataclass(frozen=True)
class PlanRecord:
    """The plan of a plan-strategy run: as it stood at the end, and every version it went through."""

    steps: list[PlannedStep]
    history: list[PlanRevision]

    @property
    def revisions(self) -> int:
        """How many times the plan was revised after it was first made."""
        return max(len(self.history) - 1, 0)


@dataclass(frozen=True)
class StepRecord:
    """One executed plan step: its goal, the tool calls it made and its outcome."""

    goal: str
    tool_calls: list[ToolCallRecord]
    outcome: str
    error: str | None = None


@dataclass(frozen=True)
class RunResult:
    """The outcome of `agent.run()`."""

    answer: str
    """The final answer text."""
    messages: list[BaseMessage]
    """The whole conversation (earlier turns of the thread included), as langchain-core messages."""
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    """Every tool call made in this run, in order."""
    usage: Usage = field(default_factory=Usage)
    """Tokens and model time of this run, from Ollama's metrics."""
    stop_reason: StopReason = "answer"
    """`answer` normally; `max_steps` when the step limit ended the run; `max_replans` when the plan limit did."""
    thinking: str = ""
    """The model's thinking for the final answer, if it thought."""
    thread_id: str | None = None
    plan: PlanRecord | None = None
    """The plan strategy's plan and its revisions (None under the tools strategy)."""
    steps: list[StepRecord] = field(default_factory=list)
    """The plan steps executed, in order (empty under the tools strategy)."""

    def __repr__(self) -> str:
        # Counts, not contents: `asyncio.run(agent.arun(...))` formats its result into a repr on the way out
        # (Python 3.11's Runner checks its SIGINT handler with `signal.getsignal`, whose enum lookup fails with a
        # "%r" message naming the handler, its task and the task's result), and langchain-core messages cost
        # ~0.17 ms each to repr: a 50-step run's full repr took ~17 ms, 0.3 ms per step of an async run.
        return (
            f"RunResult(answer={self.answer!r}, stop_reason={self.stop_reason!r}, "
            f"messages=<{len(self.messages)} messages>, tool_calls=<{len(self.tool_calls)} calls>, "
            f"steps=<{len(self.steps)} plan steps>, usage={self.usage!r}, thread_id={self.thread_id!r})"
        )


def build_result(messages: Sequence[BaseMessage], run_start: int, thread_id: str | None) -> RunResult:
    """Summarise a run from the conversation; the run's own messages start at `run_start`."""
    run = list(messages[run_start:])
    final = next((m for m in reversed(run) if isinstance(m, AIMessage)), None)
    usage = Usage()
    for message in run:
        if isinstance(message, AIMessage) and USAGE_KEY in message.response_metadata:
            usage = usage + Usage(**message.response_metadata[USAGE_KEY])
    return RunResult(
        answer=final.text if final is not None else "",
        messages=list(messages),
        tool_calls=tool_call_records(run),
        usage=usage,
        stop_reason="max_steps" if final is not None and final.response_metadata.get(STOP_KEY) else "answer",
        thinking=str(final.additional_kwargs.get("thinking", "")) if final is not None else "",
        thread_id=thread_id,
    )


def tool_call_records(messages: Sequence[BaseMessage]) -> list[ToolCallRecord]:
    """Pair each requested call with its result message."""
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    records = []
    for message in messages:
        if not isinstance(message, AIMessage):
            continue
        for call in message.tool_calls:
            call_id = call["id"] or ""
            reply = results.get(call_id)
            error = reply.additional_kwargs.get("error") if reply is not None else None
            records.append(
                ToolCallRecord(call_id, call["name"], dict(call["args"]), reply.text if reply else None, error)
            )
    return records


def run_start_index(messages: Sequence[BaseMessage], input_id: str) -> int:
    """Index of this run's input message in the conversation."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].id == input_id:
            return index
    return 0
