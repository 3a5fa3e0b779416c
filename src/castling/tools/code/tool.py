"""The `run_python` tool: a stateful, sandboxed Python interpreter for the model."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from castling.errors import ConfigError

from ._cgroup import describe
from ._config import PythonToolConfig
from ._launch import check_bwrap
from ._output import CellResult, render
from ._sessions import Session, SessionPool
from ._workspace import prepare_workspace
from .errors import UnsandboxedWarning

log = logging.getLogger(__name__)
DEFAULT_SESSION = "default"

_DESCRIPTION = (
    "Run Python code in a persistent interpreter, like a Jupyter notebook: variables, functions and imports stay "
    "defined between calls. The value of the last expression is shown, as are stdout, stderr (long output is cut "
    "in the middle) and a traceback on errors. The current directory is /workspace: files you create there are "
    "listed in the result; matplotlib figures left open are saved there as PNG files. There is no network access "
    "and only the standard library is guaranteed. Each call may run for {timeout:g} s, then it is interrupted."
)
# The memory budget is not in the description: its wording depends on the host (cgroup or rlimits), and the
# description is part of every recorded model request (scenario replays must match on any host).
_UNSANDBOXED = " WARNING: this interpreter is NOT sandboxed (only resource limits apply)."


class RunPythonInput(BaseModel):
    """Arguments of `run_python`."""

    code: str = Field(description="Python source code to run; the last expression's value is shown.")


class PythonTool(BaseTool):
    """A langchain-core tool running model-written Python in one sandboxed worker per agent session.

    `clock` is the time source of idle and least-recently-used eviction (`time.monotonic`; a fake clock lets a test
    age sessions without waiting); `live_workers` says how many interpreters are running.
    """

    name: str = "run_python"
    description: str = ""
    args_schema: type[BaseModel] = RunPythonInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    settings: PythonToolConfig
    clock: Callable[[], float] = Field(default=time.monotonic, exclude=True)
    _pool: SessionPool = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._pool = SessionPool(self.settings, self.clock)
        if not self.description:
            self.description = _DESCRIPTION.format(timeout=self.settings.timeout)
            if self.settings.sandbox == "process":
                self.description += _UNSANDBOXED

    @property
    def limits(self) -> str:
        """How the memory budget is enforced on this host (a cgroup for the whole sandbox, or split rlimits)."""
        s = self.settings
        return describe(s.memory, s.max_processes, use_cgroup=s.memory_limit != "rlimit")

    @property
    def live_workers(self) -> int:
        """How many agent sessions hold a running interpreter now (at most `max_workers` between cells)."""
        return self._pool.live_workers()

    def _session(self, config: RunnableConfig | None) -> Session:
        thread_id = ((config or {}).get("configurable") or {}).get("thread_id")
        return self._pool.get(DEFAULT_SESSION if thread_id is None else str(thread_id))

    async def _arun(self, code: str, config: RunnableConfig, **_: Any) -> tuple[str, dict[str, Any]]:
        session = self._session(config)
        cancel = threading.Event()
        future = asyncio.get_running_loop().run_in_executor(None, self._run_cell, session, code, cancel)
        try:
            result = await asyncio.shield(future)
        except asyncio.CancelledError:
            # Stop the cell (SIGINT, then kill after the grace period) and wait until the worker is idle again,
            # so the next call finds a usable session.
            cancel.set()
            session.wake()
            await asyncio.shield(future)
            raise
        return render(result), result.artifact()

    def _run(self, code: str, config: RunnableConfig, **_: Any) -> tuple[str, dict[str, Any]]:
        session = self._session(config)
        cancel = threading.Event()
        box: dict[str, Any] = {}
        thread = threading.Thread(
            target=lambda: box.setdefault("result", self._run_cell(session, code, cancel)), daemon=True
        )
        thread.start()
        try:
            thread.join()
        except KeyboardInterrupt:  # Ctrl-C in a synchronous caller stops the cell, then propagates
            cancel.set()
            session.wake()
            thread.join()
            raise
        result = box["result"]
        return render(result), result.artifact()

    def _run_cell(self, session: Session, code: str, cancel: threading.Event) -> CellResult:
        # Off the event loop: evicting other sessions' workers kills processes and waits for them.
        self._pool.make_room(session)
        return session.run(code, cancel)

    def close(self) -> None:
        """Kill every session's worker."""
        self._pool.close()

    async def aclose(self) -> None:
        """Kill every session's worker (called by the runtime when the agent session ends)."""
        await asyncio.to_thread(self._pool.close)


def python(
    *,
    timeout: float = 30.0,
    memory: int | str = "1GiB",
    workspace: str | Path | None = None,
    sandbox: Literal["bwrap", "process"] = "bwrap",
    name: str = "run_python",
    clock: Callable[[], float] = time.monotonic,
    **options: Any,
) -> PythonTool:
    """A stateful Python interpreter tool, sandboxed with bubblewrap.

    Args:
        timeout: seconds per cell before it is interrupted (then killed after `grace`, default 2 s).
        memory: address-space limit, e.g. ``"2GiB"``.
        workspace: host directory mounted at /workspace; None keeps a private size-capped tmpfs.
        sandbox: ``"bwrap"`` (default; refuses to run without bubblewrap) or ``"process"`` (opt-in, rlimits
            only: network and file reads are NOT contained).
        name: the tool name the model sees.
        clock: the time source of idle and least-recently-used eviction (injectable: a fake clock in tests).
        **options: any other `PythonToolConfig` field (grace, workspace_size, max_processes, ...).

    Raises:
        ConfigError: invalid settings.
        SandboxUnavailable: bubblewrap is missing or cannot create a sandbox here (the message says how to fix it).
    """
    try:
        fields = {"timeout": timeout, "memory": memory, "workspace": workspace, "sandbox": sandbox}
        settings = PythonToolConfig.model_validate(fields | options)
    except ValidationError as exc:
        raise ConfigError(f"invalid python() settings: {exc}") from exc
    if settings.workspace is not None:
        workspace = prepare_workspace(settings.workspace, settings.sandbox_uid)
        settings = settings.model_copy(update={"workspace": workspace})
    if settings.sandbox == "bwrap":
        check_bwrap(settings)
    else:
        message = (
            "python(sandbox='process') runs model-written code WITHOUT a sandbox: only rlimits apply; "
            "network access and reads of host files are not contained."
        )
        warnings.warn(message, UnsandboxedWarning, stacklevel=2)
        log.warning(message)
    return PythonTool(name=name, settings=settings, clock=clock)
