"""Built-in tools and tool helpers.

Loaded lazily: `from castling import tool` should not pay for the web extractor or the sandbox.
`BUILTIN_TOOLS` (in `builtins.py`) is the one table of the built-in tools that the chat and the scenarios read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from castling.tools.builtins import BUILTIN_TOOLS, BuiltinTool
    from castling.tools.code import python
    from castling.tools.decorator import tool
    from castling.tools.mcp import mcp
    from castling.tools.web import fetch, http_request

_LAZY = {
    "BUILTIN_TOOLS": "castling.tools.builtins",
    "BuiltinTool": "castling.tools.builtins",
    "fetch": "castling.tools.web",
    "http_request": "castling.tools.web",
    "mcp": "castling.tools.mcp",
    "python": "castling.tools.code",
    "tool": "castling.tools.decorator",
}

__all__ = ["BUILTIN_TOOLS", "BuiltinTool", "fetch", "http_request", "mcp", "python", "tool"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'castling.tools' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
