"""Resuming a session: switch thread, restore its model, show where the conversation stood."""

from __future__ import annotations

from typing import TYPE_CHECKING

from castling.cli.sessions import SessionInfo

if TYPE_CHECKING:
    from castling.cli.app import ChatApp

SHOWN = 4


async def resume(app: ChatApp, session_id: str) -> bool:
    """Continue session `session_id` (a unique prefix is enough); False when there is no such session."""
    if not session_id:
        latest = app.index.recent(1)
        if not latest:
            app.screen.error("there is no saved session to resume yet: start chatting, sessions save themselves")
            return False
        info = latest[0]
    else:
        found = app.index.get(session_id) or await _from_checkpoints(app, session_id)
        if found is None:
            app.screen.error(f"no session {session_id!r}: /sessions lists them")
            return False
        info = found
    from castling.cli.settings import restore

    app.session_id = info.id
    changed = restore(app.settings, info.settings)
    if info.model and info.model != app.settings.model:
        app.settings.model = info.model
        changed.append("model")
    if changed:
        app.rebuild()
    app.screen.info(f"resumed session {info.id}: {info.title} ({info.model})")
    if info.settings.get("options"):
        shown = " ".join(f"{k}={v}" for k, v in info.settings["options"].items())
        app.screen.info(f"with its settings: {shown}")
    await show_recent(app)
    return True


async def _from_checkpoints(app: ChatApp, session_id: str) -> SessionInfo | None:
    """A session this machine's index does not list but the checkpointer holds (`--db` shared by machines)."""
    if not await app.wait_ready() or (app.agent is None and not app.rebuild()):
        return None
    assert app.agent is not None
    state = await app.agent.graph.aget_state({"configurable": {"thread_id": session_id}})
    messages = (state.values or {}).get("messages", [])
    if not messages:
        return None
    title = " ".join(str(messages[0].text).split())[:60]
    return SessionInfo(session_id, title, app.settings.model, 0.0, 0.0, 0)


async def show_recent(app: ChatApp) -> None:
    """Print the last few user and assistant messages of the current session."""
    if not await app.wait_ready() or (app.agent is None and not app.rebuild()):
        return
    from langchain_core.messages import AIMessage, HumanMessage  # loaded by now (never while the import thread runs)

    assert app.agent is not None
    state = await app.agent.graph.aget_state(app.config)  # type: ignore[arg-type]
    every = list((state.values or {}).get("messages", []))
    plan_step = state.next and ((state.values or {}).get("pending") or {}).get("call")  # a plan step's call waited
    if (every and isinstance(every[-1], AIMessage) and every[-1].tool_calls) or plan_step:
        # The process ended while tool calls waited (for approval, or running): give them "interrupted" results.
        await app.agent.arecord_interruption(app.session_id)
        app.screen.info("the tool calls that were pending when this session stopped are marked interrupted")
    messages = [m for m in every if isinstance(m, HumanMessage | AIMessage)]
    for message in messages[-SHOWN:]:
        who = "you" if isinstance(message, HumanMessage) else "assistant"
        text = " ".join(message.text.split())
        if text:
            app.screen.info(f"{who}: {text[:200]}")
    last = next((m for m in reversed(messages) if isinstance(m, AIMessage) and m.text), None)
    app.last_answer = last.text if last else ""
