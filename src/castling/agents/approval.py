"""Approval before a tool runs, built on LangGraph's `interrupt()`.

An agent created with `approve=` pauses before each call that needs approval: its stream ends with an
`ApprovalEvent`, and `agent.astream(Resume(Decision(...)), thread_id=...)` continues the run. A rejected call
never runs; the model reads the user's reason as the tool result. Interrupts need a checkpointer, so a run with
approvals always has a thread (one is created when the caller names none).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import ToolCall
from langgraph.types import interrupt

from castling.agents.toolbox import ToolOutcome

ApprovalPolicy = Callable[[str, Mapping[str, Any]], bool]
"""Says whether a call (tool name, arguments) must wait for approval.

It is consulted again each time a paused run resumes (the tools node replays), and answers are matched to
questions by order: keep its answers stable while a run is paused."""
Approve = Collection[str] | ApprovalPolicy | None
"""What `Agent(approve=...)` takes: tool names that need approval, a policy function, or None (run freely)."""
Action = Literal["run", "edit", "reject"]
APPROVAL_KIND = "castling_approval"


@dataclass(frozen=True)
class Decision:
    """The answer to an approval request."""

    action: Action = "run"
    arguments: dict[str, Any] | None = None
    """The edited arguments (for `edit`)."""
    reason: str = ""
    """Why the call was rejected; the model reads it as the tool result."""

    def to_value(self) -> dict[str, Any]:
        """A plain dict, as stored in the checkpoint."""
        return {"action": self.action, "arguments": self.arguments, "reason": self.reason}

    @classmethod
    def from_value(cls, value: Any) -> Decision:
        """Read a resume value: a Decision, its dict form, or a bare action string."""
        if isinstance(value, Decision):
            return value
        if isinstance(value, str):
            return cls(action="run" if value in ("run", "accept") else "reject")
        if isinstance(value, Mapping):
            action = value.get("action", "run")
            if action not in ("run", "edit", "reject"):
                action = "reject"
            return cls(action, value.get("arguments"), str(value.get("reason") or ""))
        return cls("reject", reason="unreadable approval answer")


@dataclass(frozen=True)
class Resume:
    """Input that resumes a run paused for approval: `agent.astream(Resume(Decision("run")), thread_id=...)`."""

    decision: Decision = field(default_factory=Decision)


def needs_approval(approve: Approve, name: str, arguments: Mapping[str, Any]) -> bool:
    """Whether `approve` asks for this call to wait."""
    if approve is None:
        return False
    if callable(approve):
        return bool(approve(name, arguments))
    return name in approve


def ask(call: ToolCall) -> Decision:
    """Pause the run until the user decides about `call` (LangGraph interrupt; replays on resume)."""
    value = interrupt(
        {"kind": APPROVAL_KIND, "call_id": call["id"] or "", "name": call["name"], "arguments": dict(call["args"])}
    )
    return Decision.from_value(value)


def rejected(reason: str) -> ToolOutcome:
    """The result the model reads for a call the user declined."""
    why = f" Their reason: {reason}" if reason.strip() else ""
    return ToolOutcome(f"The user declined to run this call.{why}", "rejected by the user")
