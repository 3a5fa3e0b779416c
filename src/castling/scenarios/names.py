"""What a scenario file may name: tools and custom checks that code or configuration put here.

A scenario file is data. It names a tool or a check; it never imports one. The names it can use are the
library's stand-ins and checks (`language_checks.py`), the built-in tools, and what the host side registered:
test code (`register_tool`, `register_check`, e.g. in `conftest.py`) or configuration outside the file (the pytest
ini options `castling_tools` / `castling_checks`, `castling replay --tool/--check module:attr`), which imports
`module:attr` paths by the host's own choice.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Literal

from langchain_core.tools import BaseTool

from castling.errors import ConfigError

Check = Callable[[Any], Any]
"""Called with the run's `Outcome`; returns a bool or `(bool, reason)`."""

_TOOLS: dict[str, BaseTool] = {}
_CHECKS: dict[str, Check] = {}


def register_tool(tool: BaseTool | Callable[..., Any], *, name: str | None = None) -> BaseTool:
    """Let scenario files use `tool` under its own name (and under `name`, when given)."""
    from castling.tools.decorator import tool as as_tool

    built = tool if isinstance(tool, BaseTool) else as_tool(tool)
    _TOOLS[built.name] = built
    if name is not None:
        _TOOLS[name] = built
    return built


def register_check(name: str, check: Check) -> None:
    """Let scenario files use `custom: <name>` for `check` (called with the Outcome)."""
    _CHECKS[name] = check


def allow(path: str, kind: Literal["tool", "check"]) -> None:
    """Import `module:attr` from host configuration and register it under that path (and a tool's own name)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"Cannot allow {kind} {path!r}: give it as module:attribute, e.g. mypkg.tools:lookup.")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"Cannot allow {kind} {path!r}: {exc}") from exc
    if kind == "tool":
        register_tool(value, name=path)
    else:
        register_check(path, value)


def registered_tool(name: str) -> BaseTool | None:
    """The tool registered under `name`, if any."""
    return _TOOLS.get(name)


def registered_check(name: str) -> Check | None:
    """The check registered under `name`, else the library's check of that name (`answer-language:ja`), if any."""
    from castling.scenarios.language_checks import library_check

    return _CHECKS.get(name) or library_check(name)


def not_registered(kind: Literal["tool", "check"], name: str) -> str:
    """Why a scenario cannot use `name`, and the two ways to allow it."""
    register = "register_tool(my_tool)" if kind == "tool" else f"register_check({name!r}, my_check)"
    return (
        f"nothing registered the {kind} {name!r}, and a scenario file names {kind}s, it cannot import code. "
        f"Register it from test code (castling.scenarios.names.{register} in conftest.py) or allow it in "
        f"configuration (pytest ini `castling_{kind}s = module:attr`, or `castling replay --{kind} module:attr`)."
    )
