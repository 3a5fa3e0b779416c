"""Keeping a conversation valid after the user stops a run (Ctrl-C).

LangGraph writes a checkpoint per super-step, so a node cancelled mid-way leaves nothing. What the user saw is
written back afterwards: the partial answer as an assistant message marked interrupted, or, when tools were
running, an "interrupted" result for every call still without one (each assistant `tool_calls` message must be
followed by its tool messages).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

INTERRUPTED_KEY = "interrupted"
INTERRUPTED_NOTE = "[interrupted by user]"
ERROR_NOTE = "[reply cut off by an error:"
TOOL_INTERRUPTED = "Interrupted by the user before the tool finished; it produced no result."


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
    extra: dict[str, Any] = {INTERRUPTED_KEY: True}
    if partial_thinking:
        extra["thinking"] = partial_thinking
    note = INTERRUPTED_NOTE
    if error is not None:
        extra["error"] = error
        note = f"{ERROR_NOTE} {' '.join(error.split())[:200]}]"
    text = f"{partial_text.rstrip()}\n\n{note}" if partial_text.strip() else note
    return [AIMessage(text, additional_kwargs=extra)], "model"
