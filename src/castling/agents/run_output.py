"""What a LangGraph run of an agent gives back, as castling sees it: events, the result, an approval pause.

`Agent.run` reads the final state (`final_result`, refusing a run paused for approval with `not_paused`);
`Agent.stream` drains the graph's `STREAM_MODES` through an `EventCollector`, which turns custom items into
events and remembers the last state and any approval interrupt for the stream's last event.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.types import StreamMode

from castling.agents.approval import APPROVAL_KIND
from castling.agents.events import ApprovalEvent, Event, FinalEvent
from castling.agents.plan.state import with_plan
from castling.agents.result import RunResult, build_result, run_start_index
from castling.errors import ConfigError

STREAM_MODES: tuple[StreamMode, ...] = ("custom", "values", "updates")


class EventCollector:
    """Turns LangGraph stream items into castling events, keeping the final state and any approval pause."""

    def __init__(self, input_id: str | None, thread_id: str | None) -> None:
        self.input_id, self.thread_id = input_id, thread_id
        self.state: dict[str, Any] = {}
        self.approval: ApprovalEvent | None = None

    def take(self, item: Any) -> Event | None:
        """The event in one `(mode, payload)` stream item, if it carries one (state and pauses are kept)."""
        mode, payload = item
        if mode == "custom":
            event: Event = payload
            return event
        if mode == "values":
            self.state = payload
        else:
            self.approval = self.approval or approval_in(payload, self.thread_id)
        return None

    def last(self) -> Event:
        """The stream's last event: the approval the run paused for, or the `FinalEvent` with the result."""
        # Called after the stream is drained: leaving it early can drop the checkpointer's last write.
        return self.approval or FinalEvent(final_result(self.state, self.input_id, self.thread_id))


def not_paused(state: dict[str, Any]) -> dict[str, Any]:
    """The final state, or a ConfigError when the run stopped to wait for an approval `run()` cannot ask for."""
    if state.get("__interrupt__"):
        raise ConfigError(
            "The run paused for approval of a tool call, which run()/arun() cannot ask for: use "
            "agent.stream()/astream() and answer the ApprovalEvent with Resume(Decision(...))."
        )
    return state


def approval_in(update: Any, thread_id: str | None) -> ApprovalEvent | None:
    """The approval request in an `updates` chunk, if the run paused for one."""
    interrupts = update.get("__interrupt__") if isinstance(update, dict) else None
    for item in interrupts or ():
        value = getattr(item, "value", None)
        if isinstance(value, dict) and value.get("kind") == APPROVAL_KIND:
            return ApprovalEvent(value["call_id"], value["name"], dict(value["arguments"]), thread_id or "")
    return None


def final_result(state: dict[str, Any], input_id: str | None, thread_id: str | None) -> RunResult:
    """The `RunResult` of the run that started with the user message `input_id` (None: a resumed run)."""
    messages = state.get("messages", [])
    if input_id is None:  # a resumed run: it started at the last user message
        start = next((i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], HumanMessage)), 0)
        return with_plan(build_result(messages, start, thread_id), state)
    return with_plan(build_result(messages, run_start_index(messages, input_id), thread_id), state)
