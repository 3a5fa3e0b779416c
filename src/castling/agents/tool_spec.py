"""One tool prepared once per agent: its wire schema, argument model, deadlines and direct call paths.

`toolbox.py` builds a `ToolSpec` for each of the agent's tools and runs calls through it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from castling.backbones.tool_schema import for_ollama
from castling.backbones.wire import WireTool


@dataclass(frozen=True)
class ToolSpec:
    """One tool, prepared once per agent."""

    name: str
    tool: BaseTool
    wire: WireTool
    parameters: Mapping[str, Any]
    args_model: type[BaseModel] | None
    timeout: float | None
    """Deadline for calls awaited on the event loop (async tools, and sync functions under `arun`)."""
    sync_timeout: float | None
    """Deadline for sync functions in sync runs: only a tool's own `timeout=`, since enforcing one means a
    thread hand-off per call (measured: the largest single cost of a step) and cannot stop the function anyway."""
    direct_sync: Callable[..., Any] | None
    direct_async: Callable[..., Awaitable[Any]] | None


def prepare_tool(tool: BaseTool, default_timeout: float | None) -> ToolSpec:
    """The `ToolSpec` of `tool`; a tool without its own `timeout` metadata gets `default_timeout`."""
    full: WireTool = convert_to_openai_tool(tool)
    parameters = full["function"].get("parameters") or {}
    wire = {**full, "function": {**full["function"], "parameters": for_ollama(parameters)}}
    own_timeout = (tool.metadata or {}).get("timeout")
    args_model = tool.tool_call_schema if isinstance(tool.tool_call_schema, type) else None
    direct = isinstance(tool, StructuredTool) and _no_injected_args(tool)
    return ToolSpec(
        name=tool.name,
        tool=tool,
        wire=wire,
        parameters=parameters,
        args_model=args_model if args_model is not None and issubclass(args_model, BaseModel) else None,
        timeout=own_timeout if own_timeout is not None else default_timeout,
        sync_timeout=own_timeout,
        direct_sync=cast(StructuredTool, tool).func if direct else None,
        direct_async=cast(StructuredTool, tool).coroutine if direct else None,
    )


def _no_injected_args(tool: StructuredTool) -> bool:
    # Tools that take injected arguments (config, state, callbacks) need langchain's own invoke path.
    schema = tool.tool_call_schema
    visible = set(schema.model_fields) if isinstance(schema, type) and issubclass(schema, BaseModel) else set()
    return set(tool.args) == visible
