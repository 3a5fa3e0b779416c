"""Chat sessions: LangGraph's SQLite checkpointer holds the conversations, a small index lists them.

Both live in the user data directory. The checkpointer writes after every graph step, so a session survives the
process being killed; only the unfinished part of the turn in flight is lost.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
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
_SETTINGS_COLUMN = "ALTER TABLE sessions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'"
"""The settings that shape the model's requests (`/set`, `/think`, ...), restored by `--resume`; added to an index
written by an older version on first use."""
_COLUMNS = "id, title, model, created, updated, turns, settings"


@dataclass(frozen=True)
class SessionInfo:
    """One row of `/sessions`."""

    id: str
    title: str
    model: str
    created: float
    updated: float
    turns: int
    settings: dict[str, Any] = field(default_factory=dict)
    """What `settings.kept` returned at the last turn or change."""


def new_session_id() -> str:
    """A short id, easy to type after `/resume`."""
    return uuid.uuid4().hex[:8]


class SessionIndex:
    """The list of sessions (id, title = first user line, model, times) next to the checkpoints."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
            if "settings" not in columns:
                db.execute(_SETTINGS_COLUMN)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def touch(self, session_id: str, first_line: str, model: str, settings: Mapping[str, Any] | None = None) -> None:
        """Record a turn of `session_id` (created with `first_line` as its title on the first turn)."""
        now = time.time()
        title = " ".join(first_line.split())[:60] or "(empty)"
        with self._connect() as db:
            db.execute(
                "INSERT INTO sessions (id, title, model, created, updated, turns, settings) "
                "VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, "
                "model = excluded.model, turns = turns + 1, settings = excluded.settings",
                (session_id, title, model, now, now, json.dumps(dict(settings or {}))),
            )

    def remember(self, session_id: str, model: str, settings: Mapping[str, Any]) -> None:
        """Keep a session's new settings (changed between turns); nothing for a session without a turn yet."""
        with self._connect() as db:
            db.execute(
                "UPDATE sessions SET model = ?, settings = ? WHERE id = ?",
                (model, json.dumps(dict(settings)), session_id),
            )

    def recent(self, limit: int = 20) -> list[SessionInfo]:
        """The most recently used sessions first."""
        with self._connect() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM sessions ORDER BY updated DESC LIMIT ?", (limit,)).fetchall()
        return [_info(row) for row in rows]

    def get(self, session_id: str) -> SessionInfo | None:
        """The session with this id (or the only one starting with it)."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM sessions WHERE id LIKE ? ORDER BY updated DESC", (session_id + "%",)
            ).fetchall()
        exact = [row for row in rows if row[0] == session_id]
        chosen = exact or (rows if len(rows) == 1 else [])
        return _info(chosen[0]) if chosen else None


def _info(row: tuple[Any, ...]) -> SessionInfo:
    try:
        settings = json.loads(row[6] or "{}")
    except json.JSONDecodeError:  # hand-edited or damaged: the session still resumes, with today's settings
        settings = {}
    session_id, title, model, created, updated, turns = row[:6]
    return SessionInfo(
        session_id, title, model, created, updated, turns, settings if isinstance(settings, dict) else {}
    )


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
