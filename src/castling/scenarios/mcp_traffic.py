"""MCP traffic in scenarios: record a server's tool list and calls, replay them without starting the server.

Both sides plug into `castling.tools.mcp.override_sessions`, so agent code needs no change: inside a scenario
block, `mcp(...)` gets a `RecordingSession` around its live session (record) or a `ReplayedSession` (replay),
which never calls the function that would start the server. Calls are matched like tool HTTP: tool name and
arguments (as JSON, after the toolbox's coercion), first-in first-out among identical calls.
"""

from __future__ import annotations

import difflib
import json
import threading
from collections.abc import Callable
from typing import Any

import mcp_types as types

from castling.errors import ConfigError
from castling.scenarios.canonical import differences, show
from castling.scenarios.errors import ScenarioDivergence, UnrecordedMcpCall, rerecord_command
from castling.scenarios.format import McpCall, McpToolList, McpTraffic, Scenario
from castling.scenarios.recorder import Capture
from castling.tools.mcp import McpServer, McpSession, McpToolError, McpToolSet
from castling.tools.mcp._transports import ServerSpec


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _dump(model: types.Tool | types.CallToolResult) -> dict[str, Any]:
    # JSON-RPC field names (`inputSchema`, `isError`), as the server sent them.
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


# -- record ----------------------------------------------------------------------------------------------------
class RecordingSession(McpSession):
    """A live session whose tool list and calls are copied into the capture as they happen."""

    def __init__(self, inner: McpSession, traffic: McpTraffic, capture: Capture) -> None:
        self.inner = inner
        self.label = inner.label
        self.traffic = traffic
        self.capture = capture
        self._listed = False

    def list_tools(self) -> list[types.Tool]:
        tools = self.inner.list_tools()
        dumped = [_dump(tool) for tool in tools]
        with self.capture.lock:
            if not self._listed:
                self.traffic.tools = dumped
            else:  # the server changed its tools: replay serves this list after as many calls
                self.traffic.relisted.append(McpToolList(after_calls=len(self.traffic.calls), tools=dumped))
            self._listed = True
        return tools

    def tools_changed(self) -> bool:
        return self.inner.tools_changed()

    def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            result = self.inner.call(name, arguments)
        except McpToolError as exc:
            self._keep(name, arguments, None, str(exc))
            raise
        self._keep(name, arguments, result, None)
        return result

    async def acall(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            result = await self.inner.acall(name, arguments)
        except McpToolError as exc:
            self._keep(name, arguments, None, str(exc))
            raise
        self._keep(name, arguments, result, None)
        return result

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _keep(
        self, name: str, arguments: dict[str, Any], result: types.CallToolResult | None, error: str | None
    ) -> None:
        with self.capture.lock:
            ident = f"m{sum(len(t.calls) for t in self.capture.mcp)}"
            dumped = _dump(result) if result is not None else None
            self.traffic.calls.append(
                McpCall(id=ident, tool=name, arguments=_json(arguments), result=dumped, error=error)
            )


def recording_factory(capture: Capture) -> Callable[[McpServer, Callable[[], McpSession]], McpSession]:
    """For `override_sessions`: each server opened is started for real and its traffic recorded."""

    def factory(server: McpServer, live: Callable[[], McpSession]) -> McpSession:
        inner = live()
        traffic = McpTraffic(
            name=server.key,
            label=inner.label,
            allow=sorted(server.allow) if server.allow is not None else None,
            deny=sorted(server.deny),
            prefix=server.prefix,
        )
        with capture.lock:
            capture.mcp.append(traffic)
        return RecordingSession(inner, traffic, capture)

    return factory


# -- replay ----------------------------------------------------------------------------------------------------
class McpReplay:
    """The recorded MCP servers of one scenario; hands out replayed sessions and keeps divergences."""

    def __init__(self, scenario: Scenario, path: str) -> None:
        self.scenario = scenario
        self.path = path
        self.divergences: list[ScenarioDivergence] = []
        self.sessions: list[ReplayedSession] = []
        self.lock = threading.Lock()
        self._unopened = [traffic.name for traffic in scenario.mcp]

    def factory(self, server: McpServer, live: Callable[[], McpSession]) -> McpSession:
        """For `override_sessions`: the recorded server of that name; `live` is never called."""
        return self.open(server.key)

    def open(self, name: str) -> ReplayedSession:
        """A replayed session of the server recorded as `name` (each opening serves its own recorded traffic)."""
        with self.lock:
            if name not in self._unopened:
                raise self._keep(self._unknown_server(name))
            self._unopened.remove(name)
            traffic = next(t for t in self.scenario.mcp if t.name == name and not self._opened(t))
            session = ReplayedSession(self, traffic)
            self.sessions.append(session)
            return session

    def providers(self) -> list[ReplayedServer]:
        """Tool providers for the servers the file's `agent.mcp` names (the runner's replay)."""
        return [ReplayedServer(self, name) for name in self.scenario.agent.mcp]

    def unused(self) -> list[str]:
        """Recorded MCP calls (and servers) the run never asked for."""
        left = [f"MCP server {name} (never opened)" for name in self._unopened]
        for session in self.sessions:
            left += [f"MCP call {c.id} ({session.traffic.name}: {c.tool})" for c in session.pending]
        return left

    def _opened(self, traffic: McpTraffic) -> bool:
        return any(session.traffic is traffic for session in self.sessions)

    def _keep(self, divergence: ScenarioDivergence) -> ScenarioDivergence:
        self.divergences.append(divergence)
        return divergence

    def _unknown_server(self, name: str) -> UnrecordedMcpCall:
        recorded = [t.name for t in self.scenario.mcp]
        listed = ", ".join(map(repr, recorded)) if recorded else "none"
        return UnrecordedMcpCall(
            f"scenario {self.scenario.id!r}: the agent opened the MCP server {name!r}, which the recording does not "
            f"have (or was already opened by another agent)\n  recorded MCP servers: {listed}\n"
            "  Replay never starts an MCP server: it serves the recorded tool list and results.\n"
            "  Likely cause: the server's command line differs on this machine (give it a stable name: "
            "mcp(..., name='files')), or the agent uses another server now.\n"
            f"  Re-record: {rerecord_command(self.path, self.scenario.id)}",
            scenario=self.scenario.id,
        )


class ReplayedSession(McpSession):
    """One recorded MCP server: its tool list, and its calls served first-in first-out among identical ones."""

    def __init__(self, replay: McpReplay, traffic: McpTraffic) -> None:
        self.replay = replay
        self.traffic = traffic
        self.label = f"{traffic.name} (replayed)"
        self.pending: list[McpCall] = list(traffic.calls)
        self.count = 0
        self.current = traffic.tools
        self.relisted = 0
        """How many of the later tool lists were served."""

    def list_tools(self) -> list[types.Tool]:
        with self.replay.lock:
            if self._relisting_due():
                self.current = self.traffic.relisted[self.relisted].tools
                self.relisted += 1
            return [types.Tool.model_validate(tool) for tool in self.current]

    def tools_changed(self) -> bool:
        with self.replay.lock:
            return self._relisting_due()

    def _relisting_due(self) -> bool:
        # The recorded server changed its tools after this many calls: so does the replay, at the same point.
        served = len(self.traffic.calls) - len(self.pending)
        later = self.traffic.relisted
        return self.relisted < len(later) and later[self.relisted].after_calls <= served

    def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        with self.replay.lock:
            self.count += 1
            wanted = _json(arguments)
            for recorded in self.pending:
                if recorded.tool == name and recorded.arguments == wanted:
                    self.pending.remove(recorded)
                    return _answer(recorded)
            raise self.replay._keep(self._unrecorded(name, wanted))

    async def acall(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return self.call(name, arguments)

    def _unrecorded(self, name: str, arguments: dict[str, Any]) -> UnrecordedMcpCall:
        scenario, server = self.replay.scenario, self.traffic.name
        same_tool = [c for c in self.pending if c.tool == name]
        if same_tool:
            closest = same_tool[0]
            first = differences(closest.arguments, arguments)[0]
            detail = (
                f"\n  recorded call {closest.id} to {name}: {show(closest.arguments)}"
                f"\n  first difference at {first.path.replace('$', 'arguments', 1)}"
                f"\n    recorded: {show(first.recorded)}\n    this run: {show(first.actual)}"
                "\n  Likely cause: the model asked for other arguments (an earlier reply or tool result changed)."
            )
        else:
            recorded = [f"{c.tool}({show(c.arguments, 60)})" for c in self.pending]
            closest_names = difflib.get_close_matches(name, [c.tool for c in self.pending], n=1, cutoff=0.0)
            detail = (
                f"\n  no call to {name} is left in the recording"
                + (f"; closest left: {closest_names[0]}" if closest_names else "")
                + f"\n  calls left: {', '.join(recorded) if recorded else 'none'}"
                "\n  Likely cause: the model calls another tool now, or more often than when recorded."
            )
        return UnrecordedMcpCall(
            f"scenario {scenario.id!r}: MCP call #{self.count} to server {server!r} is not recorded (or was "
            f"already used): {name}({show(arguments)}){detail}\n  Replay never starts the MCP server.\n"
            f"  Re-record: {rerecord_command(self.replay.path, scenario.id)}",
            scenario=scenario.id,
        )


def _answer(recorded: McpCall) -> types.CallToolResult:
    if recorded.error is not None:
        raise McpToolError(recorded.error)
    return types.CallToolResult.model_validate(recorded.result or {"content": []})


class ReplayedServer:
    """A `ToolProvider` for a server a scenario file names (`agent.mcp`): its recorded tools, never a process."""

    def __init__(self, replay: McpReplay, name: str) -> None:
        self.replay = replay
        self.name = name

    def open_tools(self) -> McpToolSet:
        traffic = next((t for t in self.replay.scenario.mcp if t.name == self.name), None)
        allow = frozenset(traffic.allow) if traffic is not None and traffic.allow is not None else None
        chooser = McpServer(
            ServerSpec(command=("(replayed: never started)",)),
            allow=allow,
            deny=frozenset(traffic.deny if traffic is not None else ()),
            prefix=traffic.prefix if traffic is not None else "",
            name=self.name,
        )
        return chooser.tools_from(self.replay.open(self.name))


_REGISTERED: dict[str, McpServer] = {}


def register_mcp(name: str, server: McpServer) -> None:
    """Let scenario files name `server` as `name` in `agent.mcp` when recording (replay never needs it)."""
    _REGISTERED[name] = server


def registered_mcp(name: str) -> McpServer:
    """The server registered under `name` for recording, with the way to register it when there is none."""
    server = _REGISTERED.get(name)
    if server is None:
        raise ConfigError(
            f"nothing registered the MCP server {name!r}, and a scenario file names servers, it never starts one. "
            "To record, register it from test code: castling.scenarios.mcp_traffic.register_mcp("
            f"{name!r}, mcp('COMMAND', name={name!r})). Replay needs no server: it serves the recording."
        )
    return server if server.name == name else McpServer(server.spec, server.allow, server.deny, server.prefix, name)
