"""The modes: replay, record, record-missing, update and live, for one scenario file."""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from castling.scenarios.errors import ScenarioDivergence
from castling.scenarios.execute import CODE_TOOL, execute
from castling.scenarios.expectations import check_all, scaffold
from castling.scenarios.format import CodeCell, Mode, Outcome, Recording, Scenario, ServerExchange
from castling.scenarios.library_tools import ToolUnavailable
from castling.scenarios.live import LiveSource, ScriptedFromScenario, live_for
from castling.scenarios.offline import offline
from castling.scenarios.recorder import AnyTransport, Capture, RecordingTransport
from castling.scenarios.replayer import HttpReplay, ModelReplay, unused_error
from castling.scenarios.store import load, save, store_blob

Status = Literal["passed", "failed", "diverged", "skipped", "error"]
_CLIENTS = ("castling", "ollama", "httpx", "langgraph", "langchain-core")


@dataclass
class RunReport:
    """What happened to one scenario in one mode."""

    path: Path
    mode: Mode
    status: Status
    scenario: Scenario | None = None
    outcome: Outcome | None = None
    divergence: ScenarioDivergence | None = None
    problems: list[str] = field(default_factory=list)
    note: str = ""
    saved: bool = False
    passes: list[bool] = field(default_factory=list)
    """Live mode with repeat: one verdict per trial (for pass^k)."""

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "skipped")

    def message(self) -> str:
        parts = [str(self.divergence)] if self.divergence is not None else []
        if self.problems:
            parts.append("expectations not met:\n" + "\n".join(f"  - {p}" for p in self.problems))
        if self.note:
            parts.append(self.note)
        return "\n\n".join(parts)


def run_file(path: str | Path, mode: Mode = "replay", *, live: LiveSource | None = None, repeat: int = 1) -> RunReport:
    """Run one scenario file in `mode` (`live` gives the server to record from; default: OLLAMA_HOST)."""
    path = Path(path)
    if mode == "record-missing":
        mode = "replay" if path.exists() else "record"
    scenario = load(path)
    try:
        if mode == "replay":
            return replay(scenario, path)
        if mode == "update":
            return update(scenario, path, live)
        if mode == "record":
            return record(scenario, path, live or _default_live(scenario, path))
        return run_live(scenario, path, live or live_for(scenario), repeat)
    except ToolUnavailable as exc:
        return RunReport(path, mode, "skipped", scenario, note=f"skipped: {exc}")


def _default_live(scenario: Scenario, path: Path) -> LiveSource:
    # Constructed traffic is re-recorded from its own replies; only live recordings need a real server.
    if scenario.recording.source == "constructed":
        return ScriptedFromScenario(scenario, path.parent)
    return live_for(scenario)


def replay(scenario: Scenario, path: Path) -> RunReport:
    """Strict replay, then expectations."""
    model, http = ModelReplay(scenario, path), HttpReplay(scenario, path)
    mcp = _mcp_replay(scenario, path)
    outcome = None
    with offline(scenario.id, str(path)) as guard:  # a tool with its own HTTP client fails here, offline
        try:
            outcome = execute(scenario, model, http, mcp=mcp.providers() if mcp is not None else ())
        except (ScenarioDivergence, BaseExceptionGroup) as exc:
            found = [*guard.blocked, *_divergences_in(exc)]  # a refused connect is the first cause
            if not found:
                raise
            return RunReport(path, "replay", "diverged", scenario, divergence=found[0])
        except Exception:
            if not guard.blocked:
                raise
            # e.g. a tool that caught the refusal and raised its own error: the refusal is the cause to report
            return RunReport(path, "replay", "diverged", scenario, divergence=guard.blocked[0])
    found = guard.blocked + model.divergences + http.divergences + (mcp.divergences if mcp is not None else [])
    if found:  # raised inside the run but swallowed on the way out
        first = found[0]
        return RunReport(path, "replay", "diverged", scenario, outcome, divergence=first)
    unused = model.unused() + http.unused() + (mcp.unused() if mcp is not None else [])
    if unused and scenario.matching.unused_recordings == "fail":
        return RunReport(
            path, "replay", "diverged", scenario, outcome, divergence=unused_error(scenario, str(path), unused)
        )
    problems = check_all(scenario.expectations, outcome)
    return RunReport(path, "replay", "failed" if problems else "passed", scenario, outcome, problems=problems)


def _divergences_in(error: BaseException) -> list[ScenarioDivergence]:
    # anyio's connection attempts (httpx.AsyncClient) wrap the guard's refusal in an exception group.
    if isinstance(error, ScenarioDivergence):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        return [found for inner in error.exceptions for found in _divergences_in(inner)]
    return []


def update(scenario: Scenario, path: Path, live: LiveSource | None) -> RunReport:
    """Replay; re-record only if the replay diverged, and keep the old file if the new run fails expectations."""
    first = replay(scenario, path)
    if first.status != "diverged":
        return RunReport(path, "update", first.status, scenario, first.outcome, problems=first.problems)
    if first.divergence is not None and first.divergence.kind == "network":
        # Re-recording cannot fix a tool that bypasses the scenario's transport, and would let it reach the network.
        first.mode, first.note = "update", "not re-recorded: the tool must use the scenario's transport first"
        return first
    fresh = _record_run(scenario, path, live or _default_live(scenario, path))
    if fresh.status != "passed":
        fresh.note = f"re-recorded but {fresh.status}; the old file was kept. {fresh.note}".strip()
        fresh.divergence = fresh.divergence or first.divergence
        return fresh
    fresh.mode, fresh.note = (
        "update",
        f"re-recorded after divergence: {first.divergence.kind if first.divergence else ''}",
    )
    return fresh


def record(scenario: Scenario, path: Path, live: LiveSource, *, api_key: str | None = None) -> RunReport:
    """Run against `live` and overwrite the recording (expectations kept); a failed run saves nothing.

    `api_key`: the bearer key of an OpenAI-compatible server; sent as a header, which the recording never keeps.
    """
    return _record_run(scenario, path, live, api_key)


def _record_run(scenario: Scenario, path: Path, live: LiveSource, api_key: str | None = None) -> RunReport:
    capture = Capture()
    model = RecordingTransport(live.model_transport(), capture, kind="ollama")
    inner_http = live.http_transport()
    http: Any = (
        RecordingTransport(inner_http, capture, kind="http")
        if inner_http is not None
        else recording_wrapper(capture)  # real network: tools wrap their own (address-pinning) transport
    )
    # Ollama's version and digest; an OpenAI-compatible server has neither (its /v1/models is recorded when asked)
    stamp = _stamp(model, live.host, scenario.agent.model) if scenario.agent.server == "ollama" else {}
    try:
        with _mcp_recording(scenario, capture) as mcp:
            outcome = execute(scenario, model, http, live.host, mcp=mcp, api_key=api_key)
    except ScenarioDivergence as exc:
        return RunReport(path, "record", "error", scenario, divergence=exc, note="nothing was saved")
    if outcome.error:
        return RunReport(
            path, "record", "error", scenario, outcome, note=f"the run failed, nothing saved: {outcome.error}"
        )
    fresh = recorded_scenario(scenario, capture, outcome, live.source, stamp, path.parent)
    if capture.served:  # `castling serve` answered: a recording of a recording
        provenance = f"castling serve replaying {capture.served}"
        fresh.recording = fresh.recording.model_copy(update={"source": "constructed", "provenance": provenance})
    problems = check_all(fresh.expectations, outcome)
    if problems:
        return RunReport(path, "record", "failed", fresh, outcome, problems=problems)
    save(fresh, path, schema_ref=schema_ref(path))
    return RunReport(path, "record", "passed", fresh, outcome, saved=True)


def _mcp_replay(scenario: Scenario, path: Path) -> Any:
    """The recorded MCP servers `agent.mcp` names (an `mcp_traffic.McpReplay`), or None when it names none."""
    if not scenario.agent.mcp:
        return None
    try:
        from castling.scenarios import mcp_traffic
    except ImportError as exc:
        raise ToolUnavailable(f"the scenario uses MCP servers; install castling[mcp] ({exc}).") from exc
    return mcp_traffic.McpReplay(scenario, str(path))


@contextlib.contextmanager
def _mcp_recording(scenario: Scenario, capture: Capture) -> Iterator[list[Any]]:
    """The servers the host side registered for `agent.mcp`, their traffic recorded while the block runs."""
    if not scenario.agent.mcp:
        yield []
        return
    try:
        from castling.scenarios import mcp_traffic
        from castling.tools.mcp import override_sessions
    except ImportError as exc:
        raise ToolUnavailable(f"the scenario uses MCP servers; install castling[mcp] ({exc}).") from exc
    servers = [mcp_traffic.registered_mcp(name) for name in scenario.agent.mcp]
    with override_sessions(mcp_traffic.recording_factory(capture)):
        yield servers


def recording_wrapper(capture: Capture) -> Callable[[AnyTransport], RecordingTransport]:
    """`transport=` for tools that own their network transport (`fetch(transport=lambda inner: ...)`)."""

    def wrap(inner: AnyTransport) -> RecordingTransport:
        return RecordingTransport(inner, capture, kind="http")

    return wrap


def _stamp(model: httpx.BaseTransport | httpx.AsyncBaseTransport, host: str, name: str) -> dict[str, str]:
    """Ollama version and model digest, asked through the recording transport (so they replay too)."""
    if not isinstance(model, httpx.BaseTransport):
        return {}
    found: dict[str, str] = {}
    try:
        with httpx.Client(transport=model, base_url=host, timeout=10.0) as client:
            found["ollama_version"] = str(client.get("/api/version").json().get("version", ""))
            for entry in client.get("/api/tags").json().get("models", []):
                if entry.get("model") == name or entry.get("name") == name:
                    found["model_digest"] = "sha256:" + str(entry.get("digest", ""))
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    return found


def recorded_scenario(
    scenario: Scenario, capture: Capture, outcome: Outcome, source: str, stamp: dict[str, str], folder: Path
) -> Scenario:
    """The scenario updated with a fresh recording; expectations kept (scaffolded if there were none)."""
    recording = Recording(
        source="live" if source == "live" else "constructed",
        recorded_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        client_versions=client_versions(),
        redactions=sorted(capture.redactions),
        provenance=scenario.recording.provenance,
        **stamp,
    )
    tool_http = []
    for exchange in capture.tool_http:
        if exchange.id in capture.blobs:
            data, suffix = capture.blobs[exchange.id]
            exchange.response.body_file = store_blob(folder, data, suffix)
        tool_http.append(exchange)
    policies = {c.id: c.policy for c in scenario.code_exec}
    cells = [
        CodeCell(
            id=f"c{i}", tool=c.name, policy=policies.get(f"c{i}", "rerun"), input=c.arguments, output=c.result or ""
        )
        for i, c in enumerate(x for x in outcome.tool_calls if x.name == CODE_TOOL)
    ]
    return scenario.model_copy(
        update={
            "recording": recording,
            "server": _merge_discovery(capture.server, scenario.server),
            "model_turns": capture.turns(),
            "tool_http": tool_http,
            "code_exec": cells,
            "mcp": capture.mcp,
            "outcome": outcome,
            "expectations": scenario.expectations or scaffold(outcome),
        }
    )


def _merge_discovery(fresh: list[ServerExchange], old: list[ServerExchange]) -> list[ServerExchange]:
    # Discovery the new run did not ask for is kept (e.g. /api/show of the other listed models that the REPL's
    # model choice reads): re-recording must not shrink what the scenario can serve.
    asked = {(e.path, e.model) for e in fresh}
    return [*fresh, *(e for e in old if (e.path, e.model) not in asked)]


def client_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the wire traffic."""
    versions = {}
    for name in _CLIENTS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def run_live(scenario: Scenario, path: Path, live: LiveSource, repeat: int) -> RunReport:
    """Run against the live server `repeat` times; nothing is saved."""
    passes: list[bool] = []
    outcome, problems = None, []
    for _ in range(max(1, repeat)):
        outcome = execute(scenario, live.model_transport(), live.http_transport(), live.host)
        problems = check_all(scenario.expectations, outcome)
        passes.append(not problems)
    status: Status = "passed" if all(passes) else "failed"
    return RunReport(path, "live", status, scenario, outcome, problems=problems, passes=passes)


def schema_ref(path: Path) -> str:
    """Relative path from a scenario file to the published schema, when it sits in a `scenarios/` root."""
    for parent in path.resolve().parents:
        candidate = parent / "scenario.schema.json"
        if candidate.exists():
            return str(Path(*[".."] * (len(path.resolve().parent.parts) - len(parent.parts))) / candidate.name)
    return ""
