"""What `Agent.resume` sends the graph to continue a run that stopped, read from the thread's last checkpoint.

A run stops mid-way when its process dies, the model server fails, or a tool call waits for approval. The
checkpoint says which: `next` names the steps still to run, `interrupts` the approval asked for. Passing `None` to
the graph runs `next` from the checkpoint; a `Command(resume=...)` answers the approval.
"""

from __future__ import annotations

from typing import Any

from castling.agents.approval import Decision
from castling.errors import ConfigError

DONE = object()
"""What `resume_input` returns for a thread whose last run ended: nothing to run."""


def resume_input(snapshot: Any, thread_id: str, decision: Decision | None) -> Any:
    """The graph input that continues the stopped run in `snapshot` (a LangGraph StateSnapshot)."""
    if not snapshot.values:
        raise ConfigError(
            f"No run to resume on thread {thread_id!r}: the checkpointer has nothing for it. Check the thread id, "
            "and that this agent uses the same checkpointer (database URL or file) as the run that stopped."
        )
    waiting = [i.value for i in snapshot.interrupts if isinstance(i.value, dict) and i.value.get("kind")]
    if waiting and decision is None:
        call = waiting[0]
        raise ConfigError(
            f"The run on thread {thread_id!r} waits for approval of {call.get('name')}({call.get('arguments')}): "
            "pass the answer, e.g. resume(thread_id=..., decision=Decision('run')) or Decision('reject', reason=...)."
        )
    if decision is not None and not waiting:
        raise ConfigError(f"The run on thread {thread_id!r} is not waiting for an approval: resume it without one.")
    if decision is not None:
        from langgraph.types import Command

        return Command(resume=decision.to_value())
    return None if snapshot.next else DONE
