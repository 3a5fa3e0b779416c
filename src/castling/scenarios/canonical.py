"""Canonical request JSON and structural diffs.

Canonical form: keys that do not change the model's reply dropped (`keep_alive`; `stream` and OpenAI's
`stream_options`, since replay serves either form; configured ignore paths), `null` values and empty top-level
values dropped (clients differ in sending `tools: []` or `format: ""` or nothing), integral floats turned into ints
(`0 == 0.0`), tool-call ids replaced by positional placeholders (`call_1`, …; a tool result's `tool_call_id` by the
placeholder of the call it answers), and tool-call arguments sent as a JSON string (the OpenAI wire) parsed, so
spacing and key order in that string do not count and a diff points inside it. Key order never matters because
comparison is structural, and the fingerprint hashes key-sorted compact JSON.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

VOLATILE_KEYS = ("keep_alive", "stream", "stream_options")
_MISSING = object()


def canonical(body: Any, ignore_paths: Sequence[str] = (), *, ignore_system: bool = False) -> Any:
    """The canonical form of a request body."""
    value = _normalise(body)
    if ignore_system and isinstance(value, dict) and isinstance(value.get("messages"), list):
        value["messages"] = [m for m in value["messages"] if not (isinstance(m, dict) and m.get("role") == "system")]
    if isinstance(value, dict):
        for key in VOLATILE_KEYS:
            value.pop(key, None)
        for key in [k for k, v in value.items() if v in ("", [], {})]:
            del value[key]
    for path in ignore_paths:
        _drop(value, _parse_path(path))
    _placeholder_ids(value)
    return value


def fingerprint(body: Any) -> str:
    """sha256 of the compact key-sorted canonical JSON."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _placeholder_ids(body: Any) -> None:
    # Servers generate tool-call ids (vLLM: `chatcmpl-tool-<random>`); they are never the same twice across
    # recordings, so compare positions, and keep which call each tool result answers.
    messages = body.get("messages") if isinstance(body, dict) else None
    placeholders: dict[str, str] = {}
    counter = 0
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        for call in message.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            if "id" in call:
                counter += 1
                placeholders[str(call["id"])] = f"call_{counter}"
                call["id"] = f"call_{counter}"
            _parse_arguments(call)
        if "tool_call_id" in message:
            message["tool_call_id"] = placeholders.get(str(message["tool_call_id"]), "call_*")


def _parse_arguments(call: dict[str, Any]) -> None:
    function = call.get("function")
    arguments = function.get("arguments") if isinstance(function, dict) else None
    if isinstance(function, dict) and isinstance(arguments, str):
        try:
            function["arguments"] = _normalise(json.loads(arguments))
        except ValueError:
            pass  # not JSON (a model's broken call): compared as the text it is


def _parse_path(path: str) -> list[str | int | None]:
    """`$.tools[*].function.description` → ["tools", None, "function", "description"] (None = every item)."""
    parts: list[str | int | None] = []
    for token in re.findall(r"\.([^.\[\]]+)|\[(\*|\d+)\]", path.removeprefix("$")):
        key, index = token
        parts.append(key if key else (None if index == "*" else int(index)))
    return parts


def _drop(value: Any, parts: list[str | int | None]) -> None:
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if head is None and isinstance(value, list):
        targets = list(value)
    elif isinstance(head, int) and isinstance(value, list) and head < len(value):
        targets = [value[head]]
    elif isinstance(head, str) and isinstance(value, dict) and head in value:
        if not rest:
            del value[head]
            return
        targets = [value[head]]
    else:
        return
    for target in targets:
        _drop(target, rest)


@dataclass(frozen=True)
class Difference:
    """One place where two JSON values differ."""

    path: str
    recorded: Any
    actual: Any

    @property
    def missing_side(self) -> str:
        if self.recorded is _MISSING:
            return "recorded"
        if self.actual is _MISSING:
            return "actual"
        return ""


def differences(recorded: Any, actual: Any, path: str = "$") -> list[Difference]:
    """Every differing leaf path, in document order (lists compared item by item)."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        found: list[Difference] = []
        for key in list(recorded) + [k for k in actual if k not in recorded]:
            found += differences(recorded.get(key, _MISSING), actual.get(key, _MISSING), f"{path}.{key}")
        return found
    if isinstance(recorded, list) and isinstance(actual, list):
        found = []
        for index in range(max(len(recorded), len(actual))):
            left = recorded[index] if index < len(recorded) else _MISSING
            right = actual[index] if index < len(actual) else _MISSING
            found += differences(left, right, f"{path}[{index}]")
        return found
    return [] if recorded == actual and type(recorded) is type(actual) else [Difference(path, recorded, actual)]


def show(value: Any, limit: int = 120) -> str:
    """A one-line rendering of a JSON value, cut to `limit` characters with its full size noted."""
    if value is _MISSING:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…  ({len(text):,} chars)"


def subtree(value: Any, path: str) -> Any:
    """The value at a path produced by `differences` (or `_MISSING`)."""
    for part in _parse_path(path):
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def short_diff(recorded: Any, actual: Any, path: str, max_lines: int = 16) -> str:
    """A capped unified diff of the pretty-printed sub-tree at `path`."""
    left = _pretty(subtree(recorded, path))
    right = _pretty(subtree(actual, path))
    lines = list(difflib.unified_diff(left, right, "recorded", "this run", lineterm="", n=1))[2:]
    lines = [_cut(line) for line in lines]  # one huge string (a 10 MB body) must not flood the console
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"… ({len(lines) - max_lines} more diff lines)"]
    return "\n".join(lines)


def _cut(line: str, limit: int = 200) -> str:
    return line if len(line) <= limit else f"{line[:limit]}…  ({len(line):,} chars)"


def _pretty(value: Any) -> list[str]:
    if value is _MISSING:
        return ["(absent)"]
    if isinstance(value, str):
        return value.splitlines() or [""]
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
