"""Checkpointers named by a URL: `Agent(checkpointer="postgresql://…")` or `"sqlite:///path"`.

A LangGraph graph calls its saver's sync methods from `invoke`/`stream` and the async ones from
`ainvoke`/`astream`, and the stock savers serve one side only (`PostgresSaver` / `AsyncPostgresSaver`, the
SQLite pair). `DualSaver` serves both: sync calls go to a sync saver, async calls to an async saver opened for the
running event loop, both on the same storage. Each is opened on first use (tables created then), so building an
agent never touches the database.

`DualSaver` also serialises runs on one thread (`thread_lock`): two runs continuing the same conversation at once
would both start from the same checkpoint and fork it, and the later one would hide the other's messages.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

from castling.errors import ConfigError, ThreadBusy

Saver = BaseCheckpointSaver[Any]
log = logging.getLogger("castling.checkpoints")
DEFAULT_LOCK_WAIT = 60.0
_POLL = 0.02


def checkpointer_from(spec: str | Saver) -> tuple[Saver, bool]:
    """The saver `spec` names, and whether the agent owns it (and so closes it)."""
    if not isinstance(spec, str):
        return spec, False
    if spec.startswith(("postgresql://", "postgres://")):
        from castling.agents.checkpoint_postgres import PostgresCheckpointer

        return PostgresCheckpointer(spec), True
    if spec.startswith("sqlite:///"):
        from castling.agents.checkpoint_sqlite import SqliteCheckpointer

        return SqliteCheckpointer(spec.removeprefix("sqlite:///")), True
    shown = spec.split("@")[-1] if "@" in spec else spec
    raise ConfigError(
        f"Unknown checkpointer {shown!r}: use 'postgresql://user@host:port/db', 'sqlite:///path/to/file.db', "
        "or a LangGraph checkpointer object."
    )


class DualSaver(BaseCheckpointSaver[str]):
    """A saver for sync and async runs on one storage; subclasses open the two underlying savers."""

    def __init__(self, *, lock_wait: float = DEFAULT_LOCK_WAIT) -> None:
        super().__init__()
        self.lock_wait = lock_wait
        """Seconds a run waits for another run on the same thread to finish before `ThreadBusy`."""
        self._sync: Saver | None = None
        self._sync_opening = threading.Lock()
        self._async: dict[asyncio.AbstractEventLoop, asyncio.Future[Saver]] = {}
        self._held: set[str] = set()
        self._held_guard = threading.Lock()

    # -- what subclasses provide ------------------------------------------------------------------------------
    def _open_sync(self) -> Saver:
        raise NotImplementedError

    async def _open_async(self) -> Saver:
        raise NotImplementedError

    def _close_sync(self) -> None:
        """Release what `_open_sync` opened."""

    async def _close_async(self, saver: Saver) -> None:
        """Release what `_open_async` opened."""

    def _try_lock_across(self, thread_id: str) -> bool:
        """Take the thread's lock for other processes too (storages that can); True when taken."""
        return True

    def _unlock_across(self, thread_id: str) -> None:
        """Release what `_try_lock_across` took."""

    # -- the two sides ---------------------------------------------------------------------------------------
    def sync_saver(self) -> Saver:
        """The sync saver, opened (and the tables set up) on first use."""
        with self._sync_opening:
            if self._sync is None:
                self._sync = self._open_sync()
            return self._sync

    async def async_saver(self) -> Saver:
        """The async saver of the running event loop, opened on first use in that loop."""
        loop = asyncio.get_running_loop()
        for old in [old for old in self._async if old.is_closed()]:
            del self._async[old]  # its loop is gone, and the connections it held with it
        if loop not in self._async:
            self._async[loop] = asyncio.ensure_future(self._open_async())
        opening = self._async[loop]
        try:
            return await asyncio.shield(opening)
        except BaseException:
            if opening.done() and self._async.get(loop) is opening:
                del self._async[loop]  # a failed open is retried by the next call
            raise

    def close(self) -> None:
        """Close the sync side (the async side of a loop is closed by `aclose` in that loop)."""
        with self._sync_opening:
            if self._sync is not None:
                self._sync = None
                self._close_sync()

    async def aclose(self) -> None:
        """Close the async side of the running loop, and the sync side."""
        opening = self._async.pop(asyncio.get_running_loop(), None)
        if opening is not None and opening.done() and opening.exception() is None:
            await self._close_async(opening.result())
        await asyncio.to_thread(self.close)

    # -- one run at a time on a thread -----------------------------------------------------------------------
    @contextmanager
    def thread_lock(self, thread_id: str) -> Iterator[None]:
        """Hold `thread_id` for one run; waits up to `lock_wait` seconds for a run holding it."""
        deadline, waited = time.monotonic() + self.lock_wait, False
        while not self._try_lock(thread_id):
            waited = waited or _note_wait(thread_id, self.lock_wait)
            if time.monotonic() > deadline:
                raise ThreadBusy(_busy_message(thread_id, self.lock_wait), thread_id=thread_id)
            time.sleep(_POLL)
        try:
            yield
        finally:
            self._unlock(thread_id)

    @asynccontextmanager
    async def athread_lock(self, thread_id: str) -> AsyncIterator[None]:
        """Async `thread_lock`."""
        deadline, waited = time.monotonic() + self.lock_wait, False
        while not await asyncio.to_thread(self._try_lock, thread_id):
            waited = waited or _note_wait(thread_id, self.lock_wait)
            if time.monotonic() > deadline:
                raise ThreadBusy(_busy_message(thread_id, self.lock_wait), thread_id=thread_id)
            await asyncio.sleep(_POLL)
        try:
            yield
        finally:
            await asyncio.shield(asyncio.to_thread(self._unlock, thread_id))

    def _try_lock(self, thread_id: str) -> bool:
        with self._held_guard:
            if thread_id in self._held:
                return False
            self._held.add(thread_id)
        taken = False
        try:
            taken = self._try_lock_across(thread_id)
        finally:
            if not taken:
                with self._held_guard:
                    self._held.discard(thread_id)
        return taken

    def _unlock(self, thread_id: str) -> None:
        try:
            self._unlock_across(thread_id)
        finally:
            with self._held_guard:
                self._held.discard(thread_id)

    # -- BaseCheckpointSaver: sync ---------------------------------------------------------------------------
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.sync_saver().get_tuple(config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        return self.sync_saver().list(config, filter=filter, before=before, limit=limit)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.sync_saver().put(config, checkpoint, metadata, new_versions)

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self.sync_saver().put_writes(config, writes, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        self.sync_saver().delete_thread(thread_id)

    # -- BaseCheckpointSaver: async --------------------------------------------------------------------------
    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await (await self.async_saver()).aget_tuple(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        saver = await self.async_saver()
        async for item in saver.alist(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await (await self.async_saver()).aput(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        await (await self.async_saver()).aput_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await (await self.async_saver()).adelete_thread(thread_id)

    def get_next_version(self, current: str | None, channel: None) -> str:
        # The format the PostgreSQL and SQLite savers share: both sides of one storage must agree.
        number = 0 if current is None else int(str(current).split(".")[0])  # str() also reads old int versions
        return f"{number + 1:032}.{random.random():016}"


def _note_wait(thread_id: str, lock_wait: float) -> bool:
    """Say that the run waits for another one (else the wait is silent); True once said."""
    log.info("Thread %r is busy with another run; waiting up to %g s for it to end.", thread_id, lock_wait)
    return True


def _busy_message(thread_id: str, waited: float) -> str:
    return (
        f"Thread {thread_id!r} is being run by another run (this process or another one) and did not finish within "
        f"{waited:g} s. Wait for it to end and try again, or raise the checkpointer's lock_wait."
    )
