"""One MCP session, owned by one task on a private event-loop thread.

anyio's cancel scopes (inside the SDK's transports) must be entered and exited by the same task, so one
"owner" task opens the session and closes it: callers never touch it directly. Sync callers and async callers
on any loop hand their requests to the private loop, which also means a sync `Agent.run` and an async
`Agent.arun` share one session. A server that exits is noticed by the owner (its stream ends), which then
tears the session down; the next call starts the server again.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.subscriptions import ListenNotSupportedError, SubscriptionLost
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError

from castling._version import __version__

from ._results import McpToolError
from ._session import McpSession
from ._stderr import ServerStderr
from ._transports import ServerSpec, open_transport, watched

log = logging.getLogger(__name__)
T = TypeVar("T")

_LIVE: weakref.WeakSet[McpConnection] = weakref.WeakSet()
_CLOSE_TIMEOUT = 15.0
"""Seconds `close` waits for the session to end (the SDK's stdio shutdown is bounded: about 2 s + 2 s)."""


@atexit.register
def _close_all() -> None:
    # The loop threads are daemons: without this, servers would be killed mid-write at exit, not shut down.
    for connection in list(_LIVE):
        connection.close()


class McpConnection(McpSession):
    """A lazily opened, self-restarting MCP session for one agent."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.label = spec.label
        self._guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self._owner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._opening: asyncio.Lock | None = None
        self._stderr = ServerStderr()
        self.starts = 0
        """How many times the server was started (1 + restarts)."""
        self._changed = threading.Event()
        """Set by the server's `notifications/tools/list_changed`; read (and cleared) by `tools_changed`."""

    # -- the public surface: sync and async ------------------------------------------------------------------

    def list_tools(self) -> list[types.Tool]:
        """Every tool the server offers (all pages); starts the server if needed."""
        return self.run_sync(self._list_tools)

    def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call a tool from synchronous code (Ctrl-C cancels the request on the server)."""
        return self.run_sync(lambda: self._call(name, arguments))

    async def acall(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call a tool from any event loop (cancelling the caller cancels the request on the server)."""
        return await asyncio.wrap_future(self._submit(self._call(name, arguments)))

    def tools_changed(self) -> bool:
        """Whether the server said its tool list changed since the last `list_tools` (resets the flag)."""
        changed = self._changed.is_set()
        self._changed.clear()
        return changed

    def run_sync(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine on the session's loop and wait for it; KeyboardInterrupt cancels it there."""
        future = self._submit(make())
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise

    def close(self) -> None:
        """End the session and stop the server; safe to call twice, and from `atexit`."""
        with self._guard:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        _LIVE.discard(self)
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=_CLOSE_TIMEOUT)
        except (concurrent.futures.TimeoutError, RuntimeError) as exc:
            log.warning("MCP server %s did not shut down cleanly: %s", self.spec.label, exc)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_CLOSE_TIMEOUT)
        self._stderr.close()

    async def aclose(self) -> None:
        """`close` without blocking the caller's event loop."""
        await asyncio.to_thread(self.close)

    # -- the loop thread -------------------------------------------------------------------------------------

    def _submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._ensure_loop())

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_serve, args=(loop,), name=f"castling-mcp {self.spec.label}", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
                _LIVE.add(self)
            return self._loop

    # -- on the loop: the session ----------------------------------------------------------------------------

    async def _session(self) -> Client:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._client is None:
                ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
                self._stop = asyncio.Event()
                self._owner = asyncio.create_task(self._own(ready, self._stop))
                try:
                    async with asyncio.timeout(self.spec.start_timeout):
                        self._client = await asyncio.shield(ready)
                except TimeoutError:
                    self._stop.set()
                    raise McpToolError(
                        f"the MCP server {self.spec.label} did not finish starting within "
                        f"{self.spec.start_timeout:g} s{self._stderr.tail()}"
                    ) from None
            return self._client

    async def _own(self, ready: asyncio.Future[Client], stop: asyncio.Event) -> None:
        """The owner task: opens the session, waits until told to stop or the server goes away, closes it."""
        gone = anyio.Event()
        client: Client | None = None
        try:
            stderr = self._stderr.fresh()
            self.starts += 1
            transport = watched(open_transport(self.spec, stderr), gone)
            handler = self._on_message
            async with Client(transport, cache=None, client_info=_CLIENT_INFO, message_handler=handler) as client:
                ready.set_result(client)
                async with anyio.create_task_group() as group:
                    group.start_soon(_wait_then_cancel, stop.wait, group)
                    group.start_soon(_wait_then_cancel, gone.wait, group)
                    group.start_soon(self._listen, client)
        except Exception as exc:
            if not ready.done():
                ready.set_exception(self._start_error(exc))
            else:
                log.debug("MCP session with %s ended with %r", self.spec.label, exc)
        finally:
            if not ready.done():
                ready.cancel()
            if client is not None and self._client is client:
                self._client = None

    async def _listen(self, client: Client) -> None:
        """On the 2026 protocol a server's tool-list changes come on a `subscriptions/listen` stream."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    self._mark_changed()
        except ListenNotSupportedError:
            pass  # a 2025-era server sends `notifications/tools/list_changed` instead (`_on_message`)
        except (MCPError, SubscriptionLost, TimeoutError, anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            log.debug("MCP server %s: no tool-list change stream (%r)", self.label, exc)

    async def _on_message(self, message: types.ServerNotification | Exception) -> None:
        # Only the tool list matters to an agent: the toolbox re-reads it before the next model call.
        if isinstance(message, types.ToolListChangedNotification):
            self._mark_changed()

    def _mark_changed(self) -> None:
        if not self._changed.is_set():  # a server may say it both ways (listen stream and notification)
            log.info("MCP server %s: its tool list changed; re-reading it before the next model call", self.label)
        self._changed.set()

    async def _shutdown(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._owner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._owner), _CLOSE_TIMEOUT - 2)
        self._client = None

    def _retire(self, client: Client) -> None:
        # The session broke: drop it now, let its owner tear it down, and start afresh on the next call.
        if self._client is client:
            self._client = None
            if self._stop is not None:
                self._stop.set()

    async def _list_tools(self) -> list[types.Tool]:
        client = await self._session()
        self._changed.clear()  # this listing is the news; a notification arriving after it sets the flag again
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(100):  # a paginator that never ends must not hang the agent's construction
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        return tools

    async def _call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        client = await self._session()
        try:
            return await client.call_tool(
                name, arguments, read_timeout_seconds=self.spec.timeout, progress_callback=self._progress(name)
            )
        except MCPError as exc:
            raise self._call_error(client, name, exc) from None

    def _progress(self, name: str) -> ProgressFnT:
        async def report(progress: float, total: float | None, message: str | None) -> None:
            # A long tool's progress, for whoever watches the logs (the chat shows INFO lines with -v).
            done = f"{progress:g}/{total:g}" if total else f"{progress:g}"
            log.info("MCP tool %s on %s: progress %s%s", name, self.label, done, f" ({message})" if message else "")

        return report

    def _call_error(self, client: Client, name: str, exc: MCPError) -> McpToolError:
        if exc.code == types.CONNECTION_CLOSED:
            self._retire(client)
            return McpToolError(
                f"the MCP server {self.spec.label} closed the connection during the call to {name} (it exited or "
                f"crashed){self._stderr.tail()}. The call's effect is unknown; the server will be started again "
                "on the next call, with its state reset."
            )
        if exc.code == types.REQUEST_TIMEOUT:
            return McpToolError(
                f"the MCP tool {name} did not answer within {self.spec.timeout:g} s; the request was cancelled "
                "on the server."
            )
        return McpToolError(f"the MCP server {self.spec.label} rejected the call to {name}: {exc}")

    def _start_error(self, exc: Exception) -> McpToolError:
        cause = _innermost(exc)
        return McpToolError(
            f"could not start the MCP server {self.spec.label}: {type(cause).__name__}: {cause}{self._stderr.tail()}"
        )


_CLIENT_INFO = types.Implementation(name="castling", version=__version__)


def _innermost(exc: BaseException) -> BaseException:
    # anyio task groups wrap the real failure (a refused connection, an HTTP 403) in exception groups.
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


async def _wait_then_cancel(wait: Callable[[], Awaitable[Any]], group: anyio.abc.TaskGroup) -> None:
    await wait()
    group.cancel_scope.cancel()
