"""Keeping a conversation valid after the user stops a run (Ctrl-C).

LangGraph writes a checkpoint per super-step, so a node cancelled mid-way leaves nothing. What the user saw is
written back afterwards: the partial answer as an assistant message marked interrupted, or, when tools were
running, an "interrupted" result for every call still without one (each assistant `tool_calls` message must be
followed by its tool messages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from castling.agents.plan.steps import PendingCall, call_messages
from castling.agents.toolbox import ToolOutcome

INTERRUPTED_KEY = "interrupted"
INTERRUPTED_NOTE = "[interrupted by user]"
ERROR_NOTE = "[reply cut off by an error:"
TOOL_INTERRUPTED = "Interrupted by the user before the tool finished; it produced no result."
_INTERRUPTED_ERROR = "interrupted by user"


def interruption_update(
    messages: Sequence[BaseMessage], partial_text: str, partial_thinking: str = "", *, error: str | None = None
) -> tuple[list[BaseMessage], str]:
    """The messages to append after an interrupted run, and the node to record them as.

    With `error`, the run was cut by a failure (a server error mid-stream) rather than by the user: the partial
    answer is marked with the error instead of `[interrupted by user]`.
    """
    last = messages[-1] if messages else None
    if isinstance(last, AIMessage) and last.tool_calls:
        answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
        results: list[BaseMessage] = [
            ToolMessage(
                TOOL_INTERRUPTED,
                tool_call_id=call["id"] or "",
                name=call["name"],
                status="error",
                additional_kwargs={"error": "interrupted by user", INTERRUPTED_KEY: True},
            )
            for call in last.tool_calls
            if call["id"] not in answered
        ]
        return results, "tools"
    if not isinstance(last, HumanMessage) and not partial_text:
        return [], "model"
    if isinstance(last, AIMessage) and last.text.strip() == partial_text.strip():
        return [], "model"  # the reply was complete and checkpointed just before the cancel
    return [note_message(partial_text, partial_thinking, error)], "model"


def plan_interruption_update(
    values: Mapping[str, Any],
    next_nodes: Sequence[str],
    partial_text: str,
    partial_thinking: str = "",
    *,
    error: str | None = None,
) -> dict[str, Any]:
    """The state update (recorded as the `final` node) that ends an interrupted plan-strategy run; {} if it ended.

    A step the executor had decided on (the run waited at the approval question, or its tool was running) is
    recorded as interrupted: its call and an "interrupted" result in the conversation, and in `past_steps`. Then
    the partial answer (or just the note) closes the turn, so the next planner reads a question and its reply.
    """
    if not next_nodes:
        return {}  # the run had finished: its answer was checkpointed just before the cancel
    update: dict[str, Any] = {"pending": None}
    messages: list[BaseMessage] = []
    call = (values.get("pending") or {}).get("call")
    plan = list(values.get("plan") or [])
    if call and plan:
        pending = PendingCall(**call)
        messages = call_messages(pending, ToolOutcome(TOOL_INTERRUPTED, _INTERRUPTED_ERROR), {INTERRUPTED_KEY: True})
        calls = [{**call, "result": TOOL_INTERRUPTED, "error": _INTERRUPTED_ERROR}]
        step = {"goal": str(plan[0]["goal"]), "tool": plan[0].get("tool"), "tool_calls": calls}
        record = {**step, "outcome": TOOL_INTERRUPTED, "error": _INTERRUPTED_ERROR}
        update["past_steps"] = [*values.get("past_steps", []), record]
        update["plan"] = plan[1:]
        update["steps"] = values.get("steps", 0) + 1
    messages.append(note_message(partial_text, partial_thinking, error))
    return {**update, "messages": messages}


def note_message(partial_text: str, partial_thinking: str = "", error: str | None = None) -> AIMessage:
    """The partial answer (or only the note) as an assistant message marked interrupted, or cut by `error`."""
    extra: dict[str, Any] = {INTERRUPTED_KEY: True}
    if partial_thinking:
        extra["thinking"] = partial_thinking
    note = INTERRUPTED_NOTE
    if error is not None:
        extra["error"] = error
        note = f"{ERROR_NOTE} {' '.join(error.split())[:200]}]"
    text = f"{partial_text.rstrip()}\n\n{note}" if partial_text.strip() else note
    return AIMessage(text, additional_kwargs=extra)
