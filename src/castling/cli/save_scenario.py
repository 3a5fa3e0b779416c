"""`/save PATH`: the current conversation as a replayable scenario file.

What is saved is what the wire carried (every model turn of this conversation since the chat started), the
user messages (`task` = the first, `user_turns` = the rest), the agent configuration, and the outcome, with
scaffolded expectations to review. The scenario uses the `agent` runner (the castling agent replays the whole
conversation, tools re-run) when the agent alone can reproduce it; otherwise the `wire` runner (the recorded
requests are resent as they were), and the description says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from castling.backbones.registry import FALLBACK_FAMILY, backbone_class, family_for_model
from castling.cli.recording import FAILED
from castling.errors import CastlingError, ConfigError
from castling.scenarios.format import AgentConfig, ModelTurn, Outcome, Recording, Scenario, ToolCallOutcome
from castling.scenarios.recorder import Capture
from castling.scenarios.runner import recorded_scenario, schema_ref
from castling.scenarios.store import load, save
from castling.tools.builtins import BUILTIN_TOOLS

if TYPE_CHECKING:
    from castling.cli.app import ChatApp
    from castling.cli.recording import SessionRecorder


async def save_session(app: ChatApp, arg: str) -> None:
    """Write the conversation to `arg` (a `.yaml` path) and say how it replays."""
    recorder = app.recorder
    if not arg:
        app.screen.error("usage: /save PATH (a .yaml file; replay it with `castling replay PATH`)")
        return
    if recorder is None or recorder.session_id != app.session_id or app.agent is None:
        app.screen.error("nothing to save yet: this conversation has no turn recorded in this chat")
        return
    capture = recorder.conversation()
    if not capture.model_turns:
        app.screen.error("nothing to save yet: the model has not answered in this conversation")
        return
    path = _yaml_path(arg)
    state = await app.agent.graph.aget_state(app.config)  # type: ignore[arg-type]
    messages: list[BaseMessage] = list((state.values or {}).get("messages", []))
    _write(app, recorder, capture, path, messages)


def _write(app: ChatApp, recorder: SessionRecorder, capture: Capture, path: Path, messages: list[BaseMessage]) -> None:
    """Build the scenario (keeping an existing file's expectations), save it, and say how it replays."""
    users = _user_turns(recorder, messages)
    runner = _runner(app, recorder)
    base = _scenario(app, recorder, path, users, runner)
    kept = _keep_expectations(app, base, path)
    if kept is None:
        return
    outcome = _agent_outcome(app, messages, capture.turns()) if runner == "agent" else _wire_outcome(capture)
    fresh = recorded_scenario(base, capture, outcome, recorder.source, _stamp(capture.server, app), path.parent)
    if runner == "wire":
        fresh.code_exec = []  # the wire runner runs no tools: their results are inside the recorded requests
    if not kept and FAILED in recorder.notes:  # a failed turn replays as failed: `no_error` would fail at once
        fresh.expectations = [e for e in fresh.expectations if not e.no_error]
    save(fresh, path, schema_ref=schema_ref(path) or None)
    how = "the agent replays it" if runner == "agent" else f"wire replay only, because {'; '.join(recorder.notes)}"
    app.screen.info(
        f"saved {len(capture.model_turns)} model turn(s), {len(users)} user turn(s), source {recorder.source} to "
        f"{path} ({how}{kept}); replay: castling replay {path}"
    )


def _yaml_path(arg: str) -> Path:
    path = Path(arg).expanduser()
    return path if path.suffix in (".yaml", ".yml") else path.with_suffix(".yaml")


def _user_turns(recorder: SessionRecorder, messages: list[BaseMessage]) -> list[str]:
    """The user messages the recording covers (a resumed session's earlier ones were not recorded: noted)."""
    users = [str(m.text) for m in messages if isinstance(m, HumanMessage)]
    if len(users) > recorder.turns:
        recorder.note(f"the session was resumed: its first {len(users) - recorder.turns} turn(s) were not recorded")
        users = users[len(users) - recorder.turns :]
    return users


def _runner(app: ChatApp, recorder: SessionRecorder) -> str:
    """`agent` when the agent alone can replay the conversation, else `wire` (with the reasons noted)."""
    for name in app.settings.tools:
        if name not in BUILTIN_TOOLS:
            recorder.note(f"the tool {name!r} is not a built-in a scenario can build")
    return "wire" if recorder.notes else "agent"


def _keep_expectations(app: ChatApp, base: Scenario, path: Path) -> str | None:
    """Carry over the (reviewed) expectations of an existing file at `path`.

    Returns what to add to the report, or None when the file is not a scenario (said on screen) and is left alone.
    """
    if not path.exists():
        return ""
    try:  # as re-recording does: the file's expectations survive, the recording is new
        base.expectations = load(path).expectations
    except CastlingError as exc:
        app.screen.error(f"{path} exists and is not a scenario file, so it was left alone: {exc}")
        return None
    return f"; kept the {len(base.expectations)} expectation(s) of the existing file"


def _scenario(app: ChatApp, recorder: SessionRecorder, path: Path, users: list[str], runner: str) -> Scenario:
    settings = app.settings
    assert app.agent is not None
    why = f" Wire replay: {'; '.join(recorder.notes)}." if recorder.notes else ""
    provenance = f"castling serve replaying {recorder.served}" if recorder.served else ""
    return Scenario(
        id=path.stem,
        description=f"Saved from `castling chat` ({len(users)} user turn(s)).{why}",
        tags=["chat"],
        task=users[0] if users else "",
        user_turns=users[1:],
        agent=AgentConfig(
            runner=runner,  # type: ignore[arg-type]
            backbone=_family(settings.backbone, settings.model),
            model=settings.model,
            server=app.factory.server.api,  # type: ignore[arg-type]  # the wire the turns replay on (checked)
            strategy=app.agent.strategy,
            system=settings.system,
            think=settings.think,
            options=dict(settings.options),
            max_steps=app.agent.max_steps,
            tools=[_scenario_name(name) for name in settings.tools],
        ),
        recording=Recording(source=recorder.source, provenance=provenance),
    )


def _scenario_name(tool: str) -> str:
    """The name a scenario builds the chat's tool `tool` by (`run_python` → `python`)."""
    builtin = BUILTIN_TOOLS.get(tool)
    return builtin.scenario_name if builtin is not None else tool


def _family(family: str | None, model: str) -> str:
    """The backbone family the chat used (the fallback family when the model's has none, as the chat does)."""
    if family is not None:
        return family
    try:
        found = family_for_model(model)
        backbone_class(found)
    except ConfigError:
        return FALLBACK_FAMILY
    return found


def _agent_outcome(app: ChatApp, messages: list[BaseMessage], turns: list[ModelTurn]) -> Outcome:
    """What replaying with the agent reports: the last answer, every tool call of the conversation, all steps."""
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    calls = [
        ToolCallOutcome(
            name=call["name"],
            arguments=dict(call["args"]),
            result=str(results[call["id"]].text) if call["id"] in results else None,
        )
        for m in messages
        if isinstance(m, AIMessage)
        for call in m.tool_calls
    ]
    return _totals(Outcome(final_answer=app.last_answer, steps=len(turns), tool_calls=calls), turns)


def _wire_outcome(capture: Capture) -> Outcome:
    """What the wire runner reports: the last reply's text, every call the model asked for, one step per turn."""
    turns: list[ModelTurn] = capture.turns()
    calls = [
        ToolCallOutcome(name=str(c.get("name")), arguments=dict(c.get("arguments") or {}))
        for t in turns
        for c in t.summary.tool_calls
    ]
    last = turns[-1].summary
    outcome = Outcome(final_answer=last.content, steps=len(turns), tool_calls=calls, stop_reason=last.done_reason)
    return _totals(outcome, turns)


def _totals(outcome: Outcome, turns: list[ModelTurn]) -> Outcome:
    outcome.prompt_tokens = sum(t.summary.prompt_tokens for t in turns)
    outcome.completion_tokens = sum(t.summary.completion_tokens for t in turns)
    outcome.model_ms = round(sum(t.summary.total_ms for t in turns), 3)
    return outcome


def _stamp(server: list[Any], app: ChatApp) -> dict[str, str]:
    """Ollama version and model digest, from the discovery answers the chat already received."""
    found: dict[str, str] = {}
    for exchange in server:
        body = exchange.body if isinstance(exchange.body, dict) else {}
        if exchange.path == "/api/version" and body.get("version"):
            found["ollama_version"] = str(body["version"])
        for entry in body.get("models", []) if exchange.path == "/api/tags" else []:
            if app.settings.model in (entry.get("model"), entry.get("name")) and entry.get("digest"):
                found["model_digest"] = "sha256:" + str(entry["digest"]).removeprefix("sha256:")
    return found
