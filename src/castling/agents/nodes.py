"""Graph nodes with both a sync and an async body (the strategies' nodes route themselves with a `Command`).

LangGraph runs a plain sync node inline even under `ainvoke` (blocking the event loop during model I/O), and
an async-only node cannot run under `invoke`. Its `RunnableCallable` takes both bodies; it is not exported
publicly, so the import lives here alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langgraph._internal._runnable import RunnableCallable


def dual_node(name: str, sync: Callable[..., Any], async_: Callable[..., Awaitable[Any]]) -> RunnableCallable:
    """A node that runs `sync` under `invoke`/`stream` and `async_` under `ainvoke`/`astream`."""
    return RunnableCallable(sync, async_, name=name, trace=False)
