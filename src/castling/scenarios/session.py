"""`with scenario(path) as s:` — a scenario driven from test code (the pytest `scenario` fixture).

Inside the block, every model server without an explicit `transport=` talks to the scenario
(`castling.backbones.server.override_transport`, a scoped override), so `my_agent().run(s.task)` replays without
changes to the agent code, whether the agent was built before the block or inside it.
Pass `s.http_transport` to HTTP tools (`fetch(transport=s.http_transport)`). MCP servers (`mcp(...)`) opened
inside the block are recorded, or replayed from the file without being started (`mcp_traffic.py`); build the
agent inside the block for them, since a server's tools are listed when the agent is built.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any

from castling.backbones.server import AnyTransport, override_transport
from castling.scenarios.errors import ScenarioDivergence
from castling.scenarios.format import Mode, Outcome, Recording, Scenario, ToolCallOutcome
from castling.scenarios.live import LiveSource, ScriptedFromScenario, live_for
from castling.scenarios.offline import OfflineGuard, offline
from castling.scenarios.recorder import Capture, RecordingTransport
from castling.scenarios.replayer import HttpReplay, ModelReplay, unused_error
from castling.scenarios.store import load, save


class ScenarioSession:
    """One scenario in use by test code; checks the replay (or saves the recording) when the block ends."""

    def __init__(
        self, path: str | Path, mode: Mode = "replay", *, live: LiveSource | None = None, task: str = ""
    ) -> None:
        self.path = Path(path)
        self.mode: Mode = mode
        if mode == "record-missing":
            self.mode = "replay" if self.path.exists() else "record"
        if mode == "update":
            self.mode = "record"  # the test's own code already ran: re-record it whole
        self.scenario = load(self.path) if self.path.exists() else _blank(self.path, task)
        self.live = live
        self.capture = Capture()
        self.result: Any = None
        """Set `s.result = agent.run(...)` to store the outcome when recording."""
        self.model_transport: AnyTransport
        self.http_transport: AnyTransport | None
        self.guard: OfflineGuard | None = None
        """Replay mode, inside the block: the network guard (its `blocked` lists refused connections)."""
        self._offline: AbstractContextManager[OfflineGuard]
        self._override: AbstractContextManager[AnyTransport]
        self.mcp_replay: Any = None
        """Replay mode: the recorded MCP servers (`mcp_traffic.McpReplay`), when the MCP SDK is installed."""
        self._mcp: AbstractContextManager[Any] = nullcontext()
        self._setup()
        self._setup_mcp()

    @property
    def task(self) -> str:
        return self.scenario.task

    def _setup(self) -> None:
        if self.mode == "replay":
            self.model_transport = ModelReplay(self.scenario, self.path)
            self.http_transport = HttpReplay(self.scenario, self.path)
            return
        live = self.live or (
            ScriptedFromScenario(self.scenario, self.path.parent)
            if self.scenario.recording.source == "constructed" and self.scenario.model_turns
            else live_for(self.scenario)
        )
        if self.mode == "live":
            self.model_transport, self.http_transport = live.model_transport(), live.http_transport()
            return
        self.model_transport = RecordingTransport(live.model_transport(), self.capture, kind="ollama")
        inner = live.http_transport()
        self.http_transport = RecordingTransport(inner, self.capture, kind="http") if inner is not None else None
        self.source = live.source

    def _setup_mcp(self) -> None:
        if self.mode == "live":
            return
        try:  # without the MCP SDK no agent can open an MCP server: nothing to record or replay
            from castling.scenarios import mcp_traffic
            from castling.tools.mcp import override_sessions
        except ImportError:
            return
        if self.mode == "replay":
            self.mcp_replay = mcp_traffic.McpReplay(self.scenario, str(self.path))
            self._mcp = override_sessions(self.mcp_replay.factory)
        else:
            self._mcp = override_sessions(mcp_traffic.recording_factory(self.capture))

    def __enter__(self) -> ScenarioSession:
        self._override = override_transport(self.model_transport)
        self._override.__enter__()
        self._mcp.__enter__()
        if self.mode == "replay":  # replay is offline: a tool's own HTTP client fails the block
            self._offline = offline(self.scenario.id, str(self.path))
            self.guard = self._offline.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._override.__exit__(None, None, None)
        self._mcp.__exit__(None, None, None)
        if self.guard is not None:
            self._offline.__exit__(None, None, None)
        if isinstance(self.model_transport, ModelReplay) and isinstance(self.http_transport, HttpReplay):
            blocked = self.guard.blocked if self.guard is not None else []
            mcp_divergences = self.mcp_replay.divergences if self.mcp_replay is not None else []
            found = blocked + self.model_transport.divergences + self.http_transport.divergences + mcp_divergences
            if blocked and error is not blocked[0]:
                raise blocked[0] from error  # the first cause: what followed came from the refused connection
            if found and not isinstance(error, ScenarioDivergence):
                raise found[0] from error  # the agent swallowed or re-wrapped the divergence
            unused = self.model_transport.unused() + self.http_transport.unused()
            unused += self.mcp_replay.unused() if self.mcp_replay is not None else []
            if error is None and unused and self.scenario.matching.unused_recordings == "fail":
                raise unused_error(self.scenario, str(self.path), unused)
        elif self.mode == "record" and error is None:
            self._save()

    def _save(self) -> None:
        # Only a block that ended normally is saved: a crash never overwrites the existing file.
        from castling.scenarios.runner import recorded_scenario, schema_ref

        outcome = _outcome(self.result) or self.scenario.outcome
        fresh = recorded_scenario(self.scenario, self.capture, outcome, self.source, {}, self.path.parent)
        save(fresh, self.path, schema_ref=schema_ref(self.path))


def _blank(path: Path, task: str) -> Scenario:
    return Scenario(id=path.stem, task=task or path.stem, recording=Recording(source="live"))


def _outcome(result: Any) -> Outcome | None:
    if result is None:
        return None
    usage = getattr(result, "usage", None)
    return Outcome(
        final_answer=str(getattr(result, "answer", "")),
        steps=int(getattr(usage, "calls", 0)),
        tool_calls=[
            ToolCallOutcome(name=c.name, arguments=dict(c.arguments), result=c.result) for c in result.tool_calls
        ],
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0)),
        completion_tokens=int(getattr(usage, "completion_tokens", 0)),
    )
