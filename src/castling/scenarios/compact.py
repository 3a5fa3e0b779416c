"""Schema version 2, the file form: only what is set is written, and what can be derived is derived on load.

A `Scenario` in memory is the same whichever version its file has; this module turns one into the data of a v2
file (`to_file`) and the data of a v2 file back into what `Scenario` validates (`from_file` then `fill_derived`).

Left out of a v2 file, and why it loses nothing:
- fields at their default (`null`, `[]`, `{}`, `false`, `status: 200`, ...); `agent.backbone` and `agent.model`
  stay, since a reviewer reads them first;
- each turn's `turn` (its position), `request.fingerprint` (a hash of the body) and `summary` (joined from the
  chunks): recomputed on load;
- the `outcome` fields that equal what the recorded replies say (final answer, steps, tokens, model time): written
  only when they differ, so a compare from the recordings reads the same numbers;
- tool definitions repeated in every request body: written once under `tool_schemas:`, named in each body's
  `tools:` list (a definition that differs from the shared one stays in the body).
Expectations take one key each: `- answer_contains: Rome`, `- tool_not_called: weather`, `- max_steps: 1`.
"""

from __future__ import annotations

import copy
from typing import Any

from castling.errors import ScenarioFileError
from castling.scenarios.format import SCHEMA_VERSION, ModelTurn, Outcome, Scenario, TurnSummary
from castling.scenarios.recorder import summarise

ANSWER_KEYS = ("contains", "icontains", "not_contains", "equals", "regex")
"""`final_answer`'s checks; in v2 each is its own key, `answer_<check>`."""
_ALWAYS = {"agent": ("backbone", "model")}
"""Written even at their default: the first thing a reviewer reads."""
_DERIVED_OUTCOME = ("final_answer", "steps", "prompt_tokens", "completion_tokens", "model_ms")


# -- writing ----------------------------------------------------------------------------------------------------
def to_file(scenario: Scenario) -> dict[str, Any]:
    """The data of the v2 file for `scenario` (plain JSON types, keys in model order)."""
    dumped = scenario.model_dump(mode="json", exclude_defaults=True)
    dumped.pop("schema_version", None)
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION, **dumped}
    for section, keys in _ALWAYS.items():
        full = getattr(scenario, section).model_dump(mode="json")
        data[section] = {k: v for k, v in full.items() if k in keys or k in data.get(section, {})}
    turns = [_turn_to_file(i, turn) for i, turn in enumerate(data.get("model_turns", []))]
    if turns:
        shared = _shared_tools([t["request"].get("body") for t in turns])
        data["model_turns"] = [_refer_to_tools(t, shared) for t in turns]
        if shared:
            data = _insert_after(
                data, "server" if "server" in data else "recording", "tool_schemas", list(shared.values())
            )
    outcome = _outcome_to_file(scenario)
    data.pop("outcome", None)
    if outcome:
        data = _insert_before(data, ("expectations", "matching"), "outcome", outcome)
    if "expectations" in data:
        data["expectations"] = [_expectation_to_file(e) for e in data["expectations"]]
    return data


def _turn_to_file(index: int, turn: dict[str, Any]) -> dict[str, Any]:
    turn = dict(turn)
    if turn.get("turn") == index:
        del turn["turn"]
    turn.pop("summary", None)
    turn["request"] = {k: v for k, v in turn.get("request", {}).items() if k != "fingerprint"}
    turn.setdefault("response", {})
    return turn


def _shared_tools(bodies: list[Any]) -> dict[str, dict[str, Any]]:
    """Tool definitions by name, for the names that have one definition across all the request bodies."""
    found: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        for tool in _tools_of(body):
            name = _tool_name(tool)
            if name and tool not in found.setdefault(name, []):
                found[name].append(tool)
    return {name: defs[0] for name, defs in found.items() if len(defs) == 1}


def _tools_of(body: Any) -> list[Any]:
    tools = body.get("tools") if isinstance(body, dict) else None
    return tools if isinstance(tools, list) else []


def _tool_name(tool: Any) -> str:
    function = tool.get("function") if isinstance(tool, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    return name if isinstance(name, str) and name else ""


def _refer_to_tools(turn: dict[str, Any], shared: dict[str, dict[str, Any]]) -> dict[str, Any]:
    body = turn["request"].get("body")
    if not _tools_of(body):
        return turn
    named = [_tool_name(t) if shared.get(_tool_name(t)) == t else t for t in body["tools"]]
    return {**turn, "request": {**turn["request"], "body": {**body, "tools": named}}}


def _outcome_to_file(scenario: Scenario) -> dict[str, Any]:
    derived = derived_outcome(scenario)
    written = scenario.outcome.model_dump(mode="json", exclude_defaults=True)
    for key in _DERIVED_OUTCOME:
        if getattr(scenario.outcome, key) == derived[key]:
            written.pop(key, None)
        else:
            written[key] = getattr(scenario.outcome, key)
    return {k: written[k] for k in Outcome.model_fields if k in written}


def _expectation_to_file(expectation: dict[str, Any]) -> dict[str, Any]:
    if "final_answer" in expectation:
        return {f"answer_{k}": v for k, v in expectation["final_answer"].items()}
    for kind in ("tool_called", "tool_not_called"):
        check = expectation.get(kind)
        if isinstance(check, dict) and list(check) == ["name"]:
            return {kind: check["name"]}
    return expectation


def _insert_after(data: dict[str, Any], anchor: str, key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        out[k] = v
        if k == anchor:
            out[key] = value
    return out


def _insert_before(data: dict[str, Any], anchors: tuple[str, ...], key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k in anchors and key not in out:
            out[key] = value
        out[k] = v
    out.setdefault(key, value)
    return out


# -- reading ----------------------------------------------------------------------------------------------------
def from_file(data: dict[str, Any], path: str) -> dict[str, Any]:
    """The data of a v2 file in the shape `Scenario` validates (derived fields are filled by `fill_derived`)."""
    data = dict(data)
    shared = _schemas_by_name(data.pop("tool_schemas", None), path)
    turns = data.get("model_turns")
    if isinstance(turns, list):
        _check_expansion(turns, shared, path)
        data["model_turns"] = [_turn_from_file(i, t, shared, path) for i, t in enumerate(turns)]
    expectations = data.get("expectations")
    if isinstance(expectations, list):
        data["expectations"] = [_expectation_from_file(e) for e in expectations]
    return data


def _schemas_by_name(schemas: Any, path: str) -> dict[str, Any]:
    if schemas is None:
        return {}
    if not isinstance(schemas, list) or not all(_tool_name(s) for s in schemas):
        raise ScenarioFileError(
            f"{path}: tool_schemas must be a list of tool definitions, each with function.name "
            "({type: function, function: {name: ..., description: ..., parameters: ...}})",
            path=path,
        )
    return {_tool_name(s): s for s in schemas}


MAX_EXPANSION = 1_000_000
"""Values the tool names of a file may expand to: like a YAML alias, a short name stands for a whole definition."""


def _check_expansion(turns: list[Any], shared: dict[str, Any], path: str) -> None:
    sizes = {name: _size(schema) for name, schema in shared.items()}
    total = 0
    for turn in turns:
        request = turn.get("request") if isinstance(turn, dict) else None
        body = request.get("body") if isinstance(request, dict) else None
        total += sum(sizes.get(t, 0) for t in _tools_of(body) if isinstance(t, str))
        if total > MAX_EXPANSION:
            raise ScenarioFileError(
                f"{path}: the tool names in the request bodies expand to over {MAX_EXPANSION:,} values "
                "(a file built to exhaust memory?): write the definitions out, or name them fewer times.",
                path=path,
            )


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_size(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_size(v) for v in value)
    return 1


def _turn_from_file(index: int, turn: Any, shared: dict[str, Any], path: str) -> Any:
    if not isinstance(turn, dict):
        return turn
    turn = {"turn": index, **turn}
    request = turn.get("request")
    body = request.get("body") if isinstance(request, dict) else None
    if not isinstance(request, dict) or not isinstance(body, dict) or not _tools_of(body):
        return turn
    tools = []
    for tool in body["tools"]:
        if isinstance(tool, str) and tool not in shared:
            raise ScenarioFileError(
                f"{path}: model turn {index} names tool {tool!r}, which tool_schemas does not define "
                f"(defined: {', '.join(shared) or 'none'}); add its definition to tool_schemas.",
                path=path,
            )
        tools.append(copy.deepcopy(shared[tool]) if isinstance(tool, str) else tool)  # each body its own
    return {**turn, "request": {**request, "body": {**body, "tools": tools}}}


def _expectation_from_file(expectation: Any) -> Any:
    if not isinstance(expectation, dict):
        return expectation
    out: dict[str, Any] = {}
    for key, value in expectation.items():
        check = key.removeprefix("answer_")
        if key.startswith("answer_") and check in ANSWER_KEYS:
            out.setdefault("final_answer", {})[check] = value
        elif key in ("tool_called", "tool_not_called") and isinstance(value, str):
            out[key] = {"name": value}
        else:
            out[key] = value
    return out


def fill_derived(scenario: Scenario) -> Scenario:
    """The outcome fields a v2 file left out, computed from the recorded turns (`ModelTurn` fills the rest)."""
    derived = derived_outcome(scenario)
    for key in _DERIVED_OUTCOME:
        if key not in scenario.outcome.model_fields_set:
            setattr(scenario.outcome, key, derived[key])
    return scenario


def derived_outcome(scenario: Scenario) -> dict[str, Any]:
    """What the recorded replies say of the run: the last reply's text, one step per reply, tokens and time summed.

    Always from the chunks (never a summary read from a v1 file), so what `to_file` leaves out reads back the same.
    """
    summaries = [_summary_of(t) for t in scenario.model_turns]
    return {
        "final_answer": summaries[-1].content if summaries else "",
        "steps": len(summaries),
        "prompt_tokens": sum(s.prompt_tokens for s in summaries),
        "completion_tokens": sum(s.completion_tokens for s in summaries),
        "model_ms": round(sum(s.total_ms for s in summaries), 3),
    }


def _summary_of(turn: ModelTurn) -> TurnSummary:
    return summarise(turn.response.chunks if turn.response.chunks is not None else [turn.response.body])


# -- the published JSON Schema -------------------------------------------------------------------------------------
def add_v2_forms(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON Schema (the v1 form, which stays valid) widened by what only a v2 file writes."""
    defs = schema["$defs"]
    defs["ModelTurn"]["required"] = [r for r in defs["ModelTurn"]["required"] if r != "turn"]
    defs["ExpectationV2"] = _short_expectation_schema()
    defs["ExpectationAnyForm"] = {"anyOf": [{"$ref": "#/$defs/ExpectationV2"}, {"$ref": "#/$defs/Expectation"}]}
    schema["properties"]["expectations"]["items"] = {"$ref": "#/$defs/ExpectationAnyForm"}
    schema["properties"]["tool_schemas"] = {
        "title": "Tool Schemas",
        "description": "v2: tool definitions shared by the request bodies, whose `tools:` lists name them.",
        "type": "array",
        "items": {"type": "object", "required": ["function"]},
    }
    return schema


def _short_expectation_schema() -> dict[str, Any]:
    text = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    named = {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/ToolCalledCheck"}]}
    properties: dict[str, Any] = {
        f"answer_{k}": text if k in ANSWER_KEYS[:3] else {"type": "string"} for k in ANSWER_KEYS
    }
    properties |= {
        "tool_called": named,
        "tool_not_called": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/ToolNotCalledCheck"}]},
        "max_steps": {"type": "integer"},
        "no_error": {"type": "boolean"},
        "custom": {"type": "string"},
        "trajectory": {"$ref": "#/$defs/TrajectoryCheck"},
    }
    return {
        "title": "Expectation (v2)",
        "description": "One check, one key: `answer_contains: Rome`, `tool_called: weather`, `max_steps: 3`, "
        "`no_error: true` (several `answer_*` keys in one item are one final-answer check).",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "minProperties": 1,
    }
