"""The agent's tools: schemas converted once, arguments checked, calls run with timeouts.

Errors never escape: an unknown tool, arguments that fail validation, an exception or a timeout in the tool
all become an error result the model reads, so it can correct itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import ValidationError

from castling.agents.tool_spec import ToolSpec, prepare_tool
from castling.backbones.parsing.coercion import coerce_arguments
from castling.backbones.wire import WireTool
from castling.errors import ConfigError
from castling.tools.decorator import ensure_tool
from castling.tools.provider import ToolProvider, ToolSet

__all__ = ["MANY_TOOLS", "CheckedCall", "ManyToolsWarning", "ToolLike", "ToolOutcome", "ToolSpec", "Toolbox"]
"""`ToolSpec` lives in `tool_spec.py` now; still importable from here."""

log = logging.getLogger(__name__)

ToolLike = BaseTool | Callable[..., Any] | ToolProvider
"""What `Agent(tools=[...])` takes: langchain-core tools, typed functions, and providers (MCP servers)."""

MANY_TOOLS = 20
"""Past this many tools, small models pick worse and the schemas crowd the context: the toolbox warns."""


class ManyToolsWarning(UserWarning):
    """The agent offers the model more tools than a small model handles well."""


_EXECUTOR: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    # One pool for the process: building a pool per call costs more than the typical tool.
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="castling-tool")
    return _EXECUTOR


@dataclass(frozen=True)
class ToolOutcome:
    """What a tool call produced: the text the model reads, and the error if it failed."""

    content: str
    error: str | None = None


@dataclass(frozen=True)
class CheckedCall:
    """A call whose tool exists and whose arguments validated."""

    spec: ToolSpec
    arguments: dict[str, Any]


class Toolbox:
    """The tools one agent offers."""

    def __init__(self, tools: Sequence[ToolLike], *, default_timeout: float | None) -> None:
        self.specs: dict[str, ToolSpec] = {}
        self.tool_sets: list[ToolSet] = []
        self._default_timeout = default_timeout
        try:
            self._sources = _expand(tools, self.tool_sets)
            self.specs = self._build(strict=True)
        except BaseException:
            for tool_set in self.tool_sets:  # a provider opened before the failure must not leak its server
                tool_set.close()
            raise
        self._wire: list[WireTool] = [spec.wire for spec in self.specs.values()]
        _warn_if_many(self._wire)

    @property
    def wire(self) -> list[WireTool]:
        """The tools as the model sees them, re-read first if a provider's tools changed (MCP `list_changed`)."""
        self.refresh()
        return self._wire

    def refresh(self) -> bool:
        """Rebuild the tools if a tool set says its tools changed; the next model call then sees the new list."""
        changed = [tool_set for tool_set in self.tool_sets if _refreshed(tool_set)]
        if not changed:
            return False
        self.specs = self._build(strict=False)
        self._wire = [spec.wire for spec in self.specs.values()]
        return True

    def _build(self, *, strict: bool) -> dict[str, ToolSpec]:
        specs: dict[str, ToolSpec] = {}
        for source in self._sources:
            for candidate in source.tools if isinstance(source, _Opened) else [source]:
                spec = prepare_tool(ensure_tool(candidate), self._default_timeout)
                if spec.name in specs:
                    if strict:
                        raise ConfigError(f"Two tools are named {spec.name!r}; tool names must be unique.")
                    log.warning("a tool named %r appeared twice after a tool list changed; kept the first", spec.name)
                    continue
                specs[spec.name] = spec
        return specs

    def __bool__(self) -> bool:
        return bool(self.specs)

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def coerce(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Arguments coerced to the named tool's schema (unchanged for an unknown tool)."""
        spec = self.specs.get(name)
        return coerce_arguments(arguments, spec.parameters) if spec else dict(arguments)

    def check(self, name: str, arguments: Mapping[str, Any]) -> CheckedCall | ToolOutcome:
        """Find the tool and validate the arguments, or say why the call cannot run."""
        spec = self.specs.get(name)
        if spec is None:
            available = ", ".join(self.names) or "none"
            return _error(f"there is no tool named {name!r}. Available tools: {available}.")
        if spec.args_model is None:
            return CheckedCall(spec, dict(arguments))
        try:
            validated = spec.args_model.model_validate(arguments)
        except ValidationError as exc:
            return _error(f"invalid arguments for {name}: {_brief(exc)}. Parameters: {json.dumps(spec.parameters)}")
        fields = type(validated).model_fields
        return CheckedCall(spec, {k: getattr(validated, k) for k in arguments if k in fields})

    def run(self, call: CheckedCall, config: RunnableConfig | None) -> ToolOutcome:
        """Run a checked call in this thread (or the shared pool when it has a timeout)."""
        spec = call.spec
        if spec.direct_sync is None and spec.direct_async is not None:
            return _run_coroutine_sync(spec, call.arguments)
        target: Callable[[], Any] = (
            (lambda: spec.direct_sync(**call.arguments))  # type: ignore[misc]
            if spec.direct_sync is not None
            else (lambda: spec.tool.invoke(call.arguments, config))
        )
        try:
            if spec.sync_timeout is None:
                return _success(target())
            return _success(_executor().submit(target).result(timeout=spec.sync_timeout))
        except FutureTimeout:
            return _timed_out(spec, spec.sync_timeout)
        except Exception as exc:
            return _failure(exc)

    async def arun(self, call: CheckedCall, config: RunnableConfig | None) -> ToolOutcome:
        """Run a checked call on the event loop (sync functions in the shared pool)."""
        spec = call.spec
        try:
            if spec.direct_async is not None:
                awaitable = spec.direct_async(**call.arguments)
            elif spec.direct_sync is not None:
                function = spec.direct_sync
                loop = asyncio.get_running_loop()
                awaitable = loop.run_in_executor(_executor(), lambda: function(**call.arguments))
            else:
                awaitable = spec.tool.ainvoke(call.arguments, config)
            return _success(await asyncio.wait_for(awaitable, spec.timeout))
        except TimeoutError:
            return _timed_out(spec)
        except Exception as exc:
            return _failure(exc)

    async def aclose(self) -> None:
        """Let tools that hold resources (sandboxes, clients, MCP sessions) release them."""
        for tool_set in self.tool_sets:
            await tool_set.aclose()
        for spec in self.specs.values():
            closer = getattr(spec.tool, "aclose", None)
            if callable(closer):
                await closer()
            elif callable(getattr(spec.tool, "close", None)):
                spec.tool.close()  # type: ignore[attr-defined]

    def close(self) -> None:
        """Synchronous `aclose`."""
        for tool_set in self.tool_sets:
            tool_set.close()
        for spec in self.specs.values():
            closer = getattr(spec.tool, "close", None)
            if callable(closer):
                closer()
            elif callable(getattr(spec.tool, "aclose", None)):
                asyncio.run(spec.tool.aclose())  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Opened:
    """A provider's tool set, in its place among the agent's tools (its tools may change while it runs)."""

    tool_set: ToolSet

    @property
    def tools(self) -> Sequence[BaseTool]:
        return self.tool_set.tools


def _expand(tools: Sequence[ToolLike], opened: list[ToolSet]) -> list[BaseTool | Callable[..., Any] | _Opened]:
    # Providers open here, once per agent; `opened` collects them so the toolbox closes them with the agent.
    sources: list[BaseTool | Callable[..., Any] | _Opened] = []
    for candidate in tools:
        if isinstance(candidate, ToolProvider) and not isinstance(candidate, BaseTool):
            tool_set = candidate.open_tools()
            opened.append(tool_set)
            sources.append(_Opened(tool_set))
        else:
            sources.append(candidate)
    return sources


def _refreshed(tool_set: ToolSet) -> bool:
    # `refresh` is optional in the ToolSet protocol: providers whose tools never change need not have it.
    refresh = getattr(tool_set, "refresh", None)
    return bool(refresh()) if callable(refresh) else False


def _warn_if_many(wire: Sequence[WireTool]) -> None:
    if len(wire) <= MANY_TOOLS:
        return
    tokens = len(json.dumps(wire)) // 4  # ~4 characters a token for JSON schemas: an estimate, said as one
    warnings.warn(
        f"The agent offers {len(wire)} tools, whose schemas take about {tokens:,} tokens of every request; "
        f"small models choose worse past about {MANY_TOOLS}. Pick the ones the task needs "
        "(for an MCP server: mcp(..., allow=[...]) or deny=[...]).",
        ManyToolsWarning,
        stacklevel=4,
    )


def _run_coroutine_sync(spec: ToolSpec, arguments: dict[str, Any]) -> ToolOutcome:
    function = cast(Callable[..., Awaitable[Any]], spec.direct_async)

    async def bounded() -> Any:
        return await asyncio.wait_for(function(**arguments), spec.timeout)

    try:
        return _success(_executor().submit(asyncio.run, bounded()).result())
    except TimeoutError:
        return _timed_out(spec)
    except Exception as exc:
        return _failure(exc)


def _success(value: Any) -> ToolOutcome:
    if isinstance(value, str):
        return ToolOutcome(value)
    if isinstance(value, dict | list | tuple | int | float | bool) or value is None:
        return ToolOutcome(json.dumps(value, ensure_ascii=False, default=str))
    return ToolOutcome(str(value))


def _error(message: str) -> ToolOutcome:
    return ToolOutcome(f"Error: {message}", message)


def _failure(exc: Exception) -> ToolOutcome:
    return _error(f"{type(exc).__name__}: {exc}")


def _timed_out(spec: ToolSpec, timeout: float | None = None) -> ToolOutcome:
    seconds = timeout if timeout is not None else spec.timeout
    return _error(f"the tool {spec.name} did not finish within {seconds:g} s and was abandoned.")


def _brief(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()]
    return "; ".join(parts)
