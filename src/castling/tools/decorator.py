"""`@tool`: typed Python functions as langchain-core tools."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, overload

from langchain_core.tools import BaseTool, StructuredTool


@overload
def tool(fn: Callable[..., Any], /) -> StructuredTool: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, timeout: float | None = None
) -> Callable[[Callable[..., Any]], StructuredTool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> StructuredTool | Callable[[Callable[..., Any]], StructuredTool]:
    """Turn a typed function (sync or async) into a tool the model can call.

    The parameters' type hints become the JSON schema, the docstring's summary the description and its
    Google-style `Args:` entries the parameter descriptions. The result is a langchain-core
    `StructuredTool`, so it works anywhere LangChain tools do.

    Args:
        fn: the function (when used as `@tool` without parentheses).
        name: the tool name shown to the model; defaults to the function name.
        description: overrides the docstring summary.
        timeout: seconds before a call is abandoned and the model is told it timed out.
    """

    def wrap(function: Callable[..., Any]) -> StructuredTool:
        return as_structured_tool(function, name=name, description=description, timeout=timeout)

    return wrap(fn) if fn is not None else wrap


def as_structured_tool(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> StructuredTool:
    """Build the `StructuredTool` for a plain function."""
    is_async = inspect.iscoroutinefunction(function)
    return StructuredTool.from_function(
        func=None if is_async else function,
        coroutine=function if is_async else None,
        name=name or function.__name__,
        description=description,
        parse_docstring=_has_args_section(function),
        metadata={"timeout": timeout} if timeout is not None else None,
    )


def ensure_tool(candidate: BaseTool | Callable[..., Any]) -> BaseTool:
    """Accept a langchain-core tool as is; wrap a plain function."""
    if isinstance(candidate, BaseTool):
        return candidate
    if callable(candidate):
        return as_structured_tool(candidate)
    raise TypeError(f"not a tool or a function: {candidate!r}")


def _has_args_section(function: Callable[..., Any]) -> bool:
    doc = inspect.getdoc(function) or ""
    return "\nArgs:" in doc or doc.startswith("Args:")
