"""Divergences: a replayed run that does not follow its recording.

They derive from `BaseException`, not `Exception`, on purpose: the agent turns ordinary exceptions from the
model client and from tools into error results the model reads, and a swallowed miss would let a broken test
pass. The replayer also keeps every divergence, and the runner fails on them after the run.
"""

from __future__ import annotations

import re
from typing import Any

from castling.scenarios.canonical import Difference, differences, short_diff, show, subtree


class ScenarioDivergence(BaseException):
    """The run did not follow the recorded scenario."""

    kind = "divergence"

    def __init__(self, message: str, *, scenario: str = "", turn: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.scenario = scenario
        self.turn = turn

    def __str__(self) -> str:
        return self.message


class ModelTurnDiverged(ScenarioDivergence):
    """A model request does not match its recorded turn."""

    kind = "model-turn"


class ExtraModelCall(ScenarioDivergence):
    """The agent made more model calls than were recorded."""

    kind = "extra-model-call"


class UnusedRecordings(ScenarioDivergence):
    """Recorded model turns or tool traffic were never requested."""

    kind = "unused"


class UnrecordedHttpRequest(ScenarioDivergence):
    """A tool made an HTTP request that is not in the recording."""

    kind = "unrecorded-http"


class UnrecordedMcpCall(ScenarioDivergence):
    """An agent called an MCP tool, or opened an MCP server, that the recording does not have."""

    kind = "unrecorded-mcp"


def rerecord_command(path: str, scenario_id: str) -> str:
    """The command that re-records one scenario file."""
    return f"pytest {path} --scenario-mode=update      # or: castling replay {path} --mode update"


def turn_divergence(
    *,
    path: str,
    scenario_id: str,
    turn: int,
    total: int,
    recorded: Any,
    actual: Any,
    model: str,
    constructed: bool = False,
    drift: str = "",
    route: str = "POST /api/chat",
    api: str = "ollama",
) -> ModelTurnDiverged:
    """The full message for a model request that differs from recorded turn `turn` (`route` on `api`)."""
    found = differences(recorded, actual)
    first = found[0]
    lines = [
        f"scenario {scenario_id!r} diverged at model turn {turn} of {total} ({route}, {API_NAMES.get(api, api)})",
        f"  recording: {path}",
        f"  turns 0..{turn - 1} matched" if turn else "  the first model request already differs",
        "",
        f"  First difference at {first.path}{_context(recorded, first.path)}",
        f"    recorded: {show(first.recorded)}",
        f"    this run: {show(first.actual)}",
        "",
        _indent(short_diff(recorded, actual, _diff_root(first.path)), "  "),
    ]
    if len(found) > 1:
        others = ", ".join(d.path for d in found[1:4]) + (" …" if len(found) > 4 else "")
        lines.append(f"  Also differs ({len(found) - 1} more paths): {others}")
    lines += ["", f"  Likely cause: {likely_cause(first, recorded, actual)}"]
    if drift:
        lines.append(f"  Note: client versions changed since recording: {drift}")
    lines += _remedies(path, scenario_id, model, constructed=constructed, first_path=first.path, api=api)
    return ModelTurnDiverged("\n".join(lines), scenario=scenario_id, turn=turn)


API_NAMES = {"ollama": "Ollama API", "openai": "OpenAI-compatible API"}
_LIVE_SERVERS = {"ollama": "a running Ollama", "openai": "a running OpenAI-compatible server (vLLM, llama.cpp, …)"}


def _remedies(
    path: str, scenario_id: str, model: str, *, constructed: bool, first_path: str, api: str = "ollama"
) -> list[str]:
    """The two ways out of a divergence: re-record the scenario, or stop matching the field that differs."""
    server = _LIVE_SERVERS.get(api, _LIVE_SERVERS["ollama"])
    not_needed = "Ollama" if api == "ollama" else "model server"
    needs = (
        f"constructed traffic: re-recorded from its own replies, no {not_needed} needed"
        if constructed
        else f"needs {server} with {model}"
    )
    return [
        "",
        f"  If this change is intended, re-record this scenario ({needs}):",
        f"      {rerecord_command(path, scenario_id)}",
        "  To stop matching a field for this scenario (use sparingly), add to the file:",
        f'      matching: {{ignore_paths: ["{_wildcard(first_path)}"]}}',
    ]


def likely_cause(first: Difference, recorded: Any, actual: Any) -> str:
    """A guess, from where the first difference is, at what changed."""
    path = first.path
    message = re.match(r"\$\.messages\[(\d+)\]", path)
    if message:
        item, other = subtree(recorded, message.group(0)), subtree(actual, message.group(0))
        roles = {m.get("role") for m in (item, other) if isinstance(m, dict)}
        if "system" in roles:
            return "the system prompt changed." if len(roles) == 1 else "a system prompt was added or removed."
        if not isinstance(item, dict) or not isinstance(other, dict):
            return "the conversation has a different number of messages: the agent loop took another path."
        role = item.get("role")
        if role == "tool":
            tool = _tool_name(recorded, item) or "a tool"
            return f"the output of the {tool} tool changed; that output is part of the model input."
        if role == "user":
            return "the task or a user message changed (or the agent added a repair/limit note)."
        if role == "assistant":
            return (
                "an earlier reply is sent back differently: the agent's message conversion or argument coercion"
                " changed."
            )
    if path.startswith("$.tools"):
        return "a tool's schema (name, description or parameters) changed, or the tool list changed."
    if path.startswith(("$.options", "$.think", "$.format")) or _top_key(path) in OPENAI_OPTIONS:
        return "the model options changed (backbone settings: num_ctx, temperature, think, format)."
    if path.startswith("$.model"):
        return "the agent is configured with a different model."
    if path.startswith("$.stream"):
        return "the client switched between streamed and non-streamed chat."
    return "the request body changed."


OPENAI_OPTIONS = frozenset(
    "temperature top_p top_k min_p max_tokens max_completion_tokens seed stop presence_penalty frequency_penalty"
    " repetition_penalty response_format tool_choice parallel_tool_calls chat_template_kwargs reasoning_effort n"
    " logprobs top_logprobs".split()
)
"""Top-level request fields of the OpenAI wire that are settings (Ollama keeps its settings under `options`)."""


def _top_key(path: str) -> str:
    match = re.match(r"\$\.([^.\[]+)", path)
    return match.group(1) if match else ""


def _tool_name(body: Any, message: dict[str, Any]) -> str:
    """The tool a result message answers: Ollama's `tool_name`, else the call its `tool_call_id` names."""
    named = message.get("tool_name") or message.get("name")
    if named:
        return str(named)
    messages = subtree(body, "$.messages")
    calls = [
        call
        for other in (messages if isinstance(messages, list) else [])
        if isinstance(other, dict)
        for call in other.get("tool_calls") or []
        if isinstance(call, dict)
    ]
    wanted = message.get("tool_call_id")
    found = next((c for c in calls if wanted is not None and c.get("id") == wanted), None)
    return str((found.get("function") or {}).get("name") or "") if found else ""


def _context(recorded: Any, path: str) -> str:
    match = re.match(r"\$\.messages\[(\d+)\]", path)
    item = subtree(recorded, match.group(0)) if match else None
    if isinstance(item, dict):
        tool = _tool_name(recorded, item) if item.get("role") == "tool" else ""
        extra = f", tool={tool}" if tool else ""
        return f"  (role={item.get('role')}{extra})"
    return ""


def _diff_root(path: str) -> str:
    # Diff the enclosing message or tool, not just the leaf, so the reader sees the neighbourhood.
    match = re.match(r"\$\.(messages|tools)\[\d+\]", path)
    return match.group(0) if match else path


def _wildcard(path: str) -> str:
    return re.sub(r"^\$\.(tools|messages)\[\d+\]", r"$.\1[*]", path)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())
