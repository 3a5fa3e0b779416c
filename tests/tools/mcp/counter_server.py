"""A real MCP server for the tests, written with the SDK and run as a subprocess over stdio.

Stateful (a counter that lives as long as the process), slow, crashing, failing, and with nested-model and
nullable arguments. `--tools N` adds N filler tools (for the many-tools warning).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

server = MCPServer("castling-test-server", log_level="ERROR")
state = {"count": 0}


class Point(BaseModel):
    x: int
    y: int


class Box(BaseModel):
    corner: Point
    size: Point | None = None
    label: str | None = Field(default=None, description="a name for the box")


@server.tool()
def bump(by: int = 1) -> str:
    """Add `by` to the counter and return it."""
    state["count"] += by
    return f"count={state['count']}"


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
async def slow(seconds: float, marker: str | None = None) -> str:
    """Sleep, then answer; `marker` (a file) says `started`, then `cancelled` if the cancel arrived."""
    if marker:
        Path(marker).write_text("started")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        if marker:
            Path(marker).write_text("cancelled")
        raise
    return f"slept {seconds}"


@server.tool()
def crash() -> str:
    """Exit the server process in the middle of the call."""
    print("about to crash: goodbye", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
def fail(reason: str) -> str:
    """Raise an error (reported to the client as isError)."""
    raise ToolError(reason)


@server.tool()
def area(box: Box, scale: float | None = None, verbose: bool = False) -> dict[str, object]:
    """Area of a box, with nested model arguments."""
    size = box.size or Point(x=1, y=1)
    result: dict[str, object] = {"area": size.x * size.y * (scale or 1), "corner": [box.corner.x, box.corner.y]}
    if verbose:
        result["label"] = box.label
    return result


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name` (it echoes its text) and tell the client that the tool list changed."""

    def echo(text: str) -> str:
        return f"{name} says {text}"

    server.add_tool(echo, name=name, description=f"Echo, added at run time as {name}.")
    await ctx.notify_tools_changed()  # 2026 protocol: to `subscriptions/listen` streams
    with contextlib.suppress(Exception):  # 2025-era clients: the `notifications/tools/list_changed` message
        await ctx.session.send_tool_list_changed()
    return f"added {name}"


@server.tool()
async def steps(count: int, ctx: Context) -> str:
    """Report progress `count` times, then answer."""
    for done in range(1, count + 1):
        await ctx.report_progress(done, count, f"step {done}")
    return f"did {count} steps"


def _add_fillers(count: int) -> None:
    for index in range(count):

        def filler(text: str) -> str:
            return text

        server.add_tool(filler, name=f"filler_{index}", description=f"Filler tool number {index}.")


if __name__ == "__main__":
    if "--tools" in sys.argv:
        _add_fillers(int(sys.argv[sys.argv.index("--tools") + 1]))
    server.run()
