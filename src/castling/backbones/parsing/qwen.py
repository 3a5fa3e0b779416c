"""Tool calls a Qwen model left in `content`.

The forms seen in real traffic: Hermes `<tool_call>{json}</tool_call>` blocks, one or
several; the Qwen3.5/Coder XML form `<function=NAME><parameter=P>V</parameter></function>`; a ```json fenced
call; and bare JSON `{"name": ..., "arguments": ...}`. Inline `<think>...</think>` (servers without a reasoning
parser) is split off as thinking.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from castling.backbones.parsing.lenient_json import find_json_values, loads_lenient
from castling.backbones.wire import RawToolCall

_THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.DOTALL)
_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_FUNCTION = re.compile(r"<function=([^>\s]+)>(.*?)(?:</function>|$)", re.DOTALL)
_PARAMETER = re.compile(r"<parameter=([^>\s]+)>(.*?)(?:</parameter>|(?=<parameter=)|$)", re.DOTALL)
_FENCE = re.compile(r"```(?:json|tool_call)?\s*\n?(.*?)```", re.DOTALL)


@dataclass
class ContentParse:
    """What was found in a reply's text: the text left for the user, inline thinking and recovered calls."""

    text: str
    thinking: str = ""
    calls: list[RawToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Call-shaped blocks that could not be read, for the model to be told about."""


def parse_qwen_content(content: str) -> ContentParse:
    """Split inline thinking off `content` and recover tool calls left in it."""
    text, thinking = split_think(content)
    result = ContentParse(text=text, thinking=thinking)
    for parser in (_tagged_calls, _xml_calls, _fenced_calls, _bare_json_calls):
        if parser(result):
            break
    result.text = result.text.strip()
    return result


def split_think(content: str) -> tuple[str, str]:
    """Separate `<think>` blocks (or text before a lone `</think>`) from the answer."""
    if "</think>" in content and "<think>" not in content:
        thought, _, rest = content.partition("</think>")
        return rest, thought.strip()
    thoughts = [m.strip() for m in _THINK.findall(content)]
    return _THINK.sub("", content), "\n".join(t for t in thoughts if t)


def call_from_object(value: Any) -> RawToolCall | None:
    """A call from `{"name": ..., "arguments"|"parameters": {...}}`, or None when the object is not one."""
    if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
        return None
    if "function" in value and isinstance(value["function"], Mapping):
        return call_from_object(value["function"])
    args = value.get("arguments", value.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = loads_lenient(args) if args.strip() else {}
        except ValueError:
            return None
    if not isinstance(args, Mapping):
        return None
    extra = set(value) - {"name", "arguments", "parameters", "type", "id"}
    return None if extra else RawToolCall(value["name"], dict(args))


def calls_from_value(value: Any) -> list[RawToolCall] | None:
    """Calls from an object or a list of objects, or None if any element is not a call."""
    items = value if isinstance(value, list) else [value]
    calls = [call_from_object(item) for item in items]
    if not calls or any(c is None for c in calls):
        return None
    return [c for c in calls if c is not None]


def _tagged_calls(result: ContentParse) -> bool:
    blocks = _TOOL_CALL.findall(result.text)
    if not blocks:
        return False
    for block in blocks:
        body = block.strip()
        if body.startswith("<function="):
            result.calls.extend(_xml_functions(body))
            continue
        try:
            calls = calls_from_value(loads_lenient(_unfence(body)))
        except ValueError:
            calls = None
        if calls is None:
            result.errors.append(f"could not read the tool call {body[:120]!r}")
        else:
            result.calls.extend(calls)
    result.text = _TOOL_CALL.sub("", result.text)
    return True


def _xml_calls(result: ContentParse) -> bool:
    calls = _xml_functions(result.text)
    if calls:
        result.calls.extend(calls)
        result.text = _FUNCTION.sub("", result.text)
    return bool(calls)


def _xml_functions(text: str) -> list[RawToolCall]:
    calls = []
    for name, body in _FUNCTION.findall(text):
        params = {key: _strip_newline(value) for key, value in _PARAMETER.findall(body)}
        calls.append(RawToolCall(name, params))
    return calls


def _fenced_calls(result: ContentParse) -> bool:
    for match in _FENCE.finditer(result.text):
        try:
            calls = calls_from_value(loads_lenient(match.group(1)))
        except ValueError:
            continue
        if calls:
            result.calls.extend(calls)
            result.text = result.text[: match.start()] + result.text[match.end() :]
            return True
    return False


def _bare_json_calls(result: ContentParse) -> bool:
    stripped = result.text.strip()
    if not stripped.startswith(("{", "[")):
        return False
    values = find_json_values(stripped)
    if len(values) != 1 or (values[0][0], values[0][1]) != (0, len(stripped)):
        return False  # JSON mixed with prose is an answer, not a call
    calls = calls_from_value(values[0][2])
    if calls:
        result.calls.extend(calls)
        result.text = ""
    return bool(calls)


def _unfence(text: str) -> str:
    match = _FENCE.search(text)
    return match.group(1) if match else text


def _strip_newline(value: str) -> str:
    return value.removeprefix("\n").removesuffix("\n")
