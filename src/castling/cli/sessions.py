"""Chat sessions: LangGraph's SQLite checkpointer holds the conversations, a small index lists them.

Both live in the user data directory. The checkpointer writes after every graph step, so a session survives the
process being killed; only the unfinished part of the turn in flight is lost.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # langgraph is imported in the background while the prompt shows (see chat.py)
    from langgraph.checkpoint.base import BaseCheckpointSaver

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    model TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    turns INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class SessionInfo:
    """One row of `/sessions`."""

    id: str
    title: str
    model: str
    created: float
    updated: float
    turns: int


def new_session_id() -> str:
    """A short id, easy to type after `/resume`."""
    return uuid.uuid4().hex[:8]


class SessionIndex:
    """The list of sessions (id, title = first user line, model, times) next to the checkpoints."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def touch(self, session_id: str, first_line: str, model: str) -> None:
        """Record a turn of `session_id` (created with `first_line` as its title on the first turn)."""
        now = time.time()
        title = " ".join(first_line.split())[:60] or "(empty)"
        with self._connect() as db:
            db.execute(
                "INSERT INTO sessions (id, title, model, created, updated, turns) VALUES (?, ?, ?, ?, ?, 1) "
                "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, model = excluded.model, turns = turns + 1",
                (session_id, title, model, now, now),
            )

    def recent(self, limit: int = 20) -> list[SessionInfo]:
        """The most recently used sessions first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, title, model, created, updated, turns FROM sessions ORDER BY updated DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [SessionInfo(*row) for row in rows]

    def get(self, session_id: str) -> SessionInfo | None:
        """The session with this id (or the only one starting with it)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, title, model, created, updated, turns FROM sessions WHERE id LIKE ? ORDER BY updated DESC",
                (session_id + "%",),
            ).fetchall()
        exact = [row for row in rows if row[0] == session_id]
        chosen = exact or (rows if len(rows) == 1 else [])
        return SessionInfo(*chosen[0]) if chosen else None


def open_checkpointer(db: Path | str) -> AbstractAsyncContextManager[BaseCheckpointSaver[Any]]:
    """LangGraph's async SQLite checkpointer on the file `db`, or the checkpointer a `--db` URL names."""
    if isinstance(db, str):
        return _url_checkpointer(db)
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    return AsyncSqliteSaver.from_conn_string(str(db))


@asynccontextmanager
async def _url_checkpointer(url: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    from castling.agents.checkpointers import DualSaver, checkpointer_from

    saver, _ = checkpointer_from(url)
    try:
        if isinstance(saver, DualSaver):
            await saver.async_saver()  # opened now, so a wrong URL is reported at start-up, not on the first turn
        yield saver
    finally:
        if isinstance(saver, DualSaver):
            await saver.aclose()
