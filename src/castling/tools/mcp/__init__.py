"""MCP both ways: `mcp(...)` brings an MCP server's tools to an agent; `castling mcp` serves castling's tools.

Needs the `mcp` extra: `pip install 'castling[mcp]'`.
"""

from __future__ import annotations

try:
    import mcp as _sdk  # noqa: F401  (the check only: the SDK is imported by the modules below)
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "castling's MCP support needs the MCP SDK: pip install 'castling[mcp]' (or: pip install 'mcp>=2.3,<3')."
    ) from exc

import sys
import types
from typing import Any

from ._results import McpToolError
from ._session import McpSession, override_sessions
from .client import McpServer, McpToolSet, mcp

__all__ = ["McpServer", "McpSession", "McpToolError", "McpToolSet", "mcp", "override_sessions"]


class _CallableModule(types.ModuleType):
    # Importing a submodule (`castling.tools.mcp.server`) makes Python bind `castling.tools.mcp` to this
    # package, shadowing the lazily bound function; `from castling.tools import mcp` must still give a callable.
    def __call__(self, *args: Any, **kwargs: Any) -> McpServer:
        return mcp(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
