"""One remote MCP tool as a langchain-core tool."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool
from pydantic import ConfigDict

from ._results import render_result
from ._session import McpSession


class McpTool(BaseTool):
    """Calls one tool of an MCP server through the agent's session with it.

    `args_schema` is the server's input schema reduced for small models (a dict, so langchain does not
    validate it: the toolbox coerces arguments to it and the server validates them).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    connection: McpSession
    remote_name: str
    """The name on the server (the same as `name` unless the tools were given a prefix)."""

    def _run(self, **arguments: Any) -> str:
        return render_result(self.remote_name, self.connection.call(self.remote_name, arguments))

    async def _arun(self, **arguments: Any) -> str:
        return render_result(self.remote_name, await self.connection.acall(self.remote_name, arguments))
