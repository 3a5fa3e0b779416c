"""SQLite checkpoints in one file, for sync and async runs (one machine; runs on a thread serialised per process)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from castling.agents.checkpointers import DEFAULT_LOCK_WAIT, DualSaver, Saver
from castling.errors import CheckpointerUnavailable, ConfigError

_BUSY_TIMEOUT_MS = 30_000  # writers from other processes wait for the file lock instead of failing at once


class SqliteCheckpointer(DualSaver):
    """Checkpoints in the SQLite file at `path`, created (with its tables) on first use."""

    def __init__(self, path: str | Path, *, lock_wait: float = DEFAULT_LOCK_WAIT) -> None:
        super().__init__(lock_wait=lock_wait)
        try:
            import aiosqlite  # noqa: F401
            import langgraph.checkpoint.sqlite  # noqa: F401
        except ImportError as exc:
            raise ConfigError(
                f"A SQLite checkpointer needs the sqlite extra ({exc.name} is missing): pip install 'castling[sqlite]'."
            ) from exc
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SqliteCheckpointer({str(self.path)!r})"

    def _open_sync(self) -> Saver:
        from langgraph.checkpoint.sqlite import SqliteSaver

        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000)
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        self._conn = conn
        saver = SqliteSaver(conn)
        saver.setup()
        return saver

    async def _open_async(self) -> Saver:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        try:
            conn = await aiosqlite.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000)
            await conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        return saver

    def _unavailable(self, exc: Exception) -> CheckpointerUnavailable:
        return CheckpointerUnavailable(
            f"Could not open the SQLite checkpointer at {self.path}: {exc}. Check that its folder exists and is "
            "writable."
        )

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _close_async(self, saver: Saver) -> None:
        conn: Any = getattr(saver, "conn", None)
        if conn is not None:
            await asyncio.shield(conn.close())
