"""Tool calls a Llama model left in `content`.

Ollama's llama3.x template only recognises a reply that starts with `{` (ollama#7824), so every other form Meta
documents arrives as text: JSON `{"name": ..., "parameters": {...}}` (with or without `"type": "function"`),
the same inside a ```json fence, a `<|python_tag|>` prefix (3.1 built-in tools; a bare code payload after it is
meant for the code interpreter), `<function=name>{json}</function>`, and the 3.2/4 pythonic list
`[f(a=1), g(b='x', flag=True)]`. The pythonic form is read with `ast` and `ast.literal_eval`, never `eval`.
A bare `[]` means "no call" (seen in real llama3.2 traffic after a tool result).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection
from typing import Any

from castling.backbones.parsing.lenient_json import find_json_values, loads_lenient
from castling.backbones.parsing.qwen import ContentParse, calls_from_value, split_think
from castling.backbones.wire import RawToolCall

PYTHON_TOOL = "run_python"
"""The name of castling's Python tool, which receives code sent after `<|python_tag|>`."""

_PYTHON_TAG = "<|python_tag|>"
_END_TOKENS = re.compile(r"<\|(?:eom_id|eot_id|eom|eot)\|>")
_FUNCTION = re.compile(r"<function=([\w.\-]+)>(.*?)</function>", re.DOTALL)
_FENCE = re.compile(r"```[\w-]*\s*\n?(.*?)```", re.DOTALL)
_SEPARATORS = re.compile(r"[\s;,]*")


def parse_llama_content(content: str, tool_names: Collection[str] = ()) -> ContentParse:
    """Recover the tool calls a Llama model wrote into its text.

    Args:
        content: the reply text.
        tool_names: the tools offered; code after `<|python_tag|>` goes to `run_python` only when it is offered,
            and a bare `name(...)` call without brackets is read only for an offered name.
    """
    text, thinking = split_think(_END_TOKENS.sub("", content))
    result = ContentParse(text=text.strip(), thinking=thinking)
    if _PYTHON_TAG in result.text:
        _python_tag(result, tool_names)
    else:
        _read_calls(result, tool_names)
    return result


def _read_calls(result: ContentParse, tool_names: Collection[str]) -> bool:
    for reader in (_function_tags, _fenced, _whole):
        if reader(result, tool_names):
            return True
    return False


def _python_tag(result: ContentParse, tool_names: Collection[str]) -> None:
    before, _, payload = result.text.partition(_PYTHON_TAG)
    result.text = payload.strip()
    if _read_calls(result, tool_names):
        result.text = (before.strip() + " " + result.text).strip()
        return
    if PYTHON_TOOL in tool_names and result.text:
        result.calls.append(RawToolCall(PYTHON_TOOL, {"code": _unfence(result.text)}))
        result.text = before.strip()
    elif result.text:
        result.errors.append(f"code after <|python_tag|> but no {PYTHON_TOOL} tool is offered")
        result.text = (before.strip() + "\n" + result.text).strip()


def _function_tags(result: ContentParse, tool_names: Collection[str]) -> bool:
    matches = list(_FUNCTION.finditer(result.text))
    for match in matches:
        try:
            arguments = loads_lenient(match.group(2)) if match.group(2).strip() else {}
        except ValueError:
            arguments = None
        if isinstance(arguments, dict):
            result.calls.append(RawToolCall(match.group(1), arguments))
        else:
            result.errors.append(f"could not read the arguments of <function={match.group(1)}>")
    result.text = _FUNCTION.sub("", result.text).strip()
    return bool(matches)


def _fenced(result: ContentParse, tool_names: Collection[str]) -> bool:
    for match in _FENCE.finditer(result.text):
        body = match.group(1).strip()
        calls = _json_calls(body)
        if calls is None:
            calls = _pythonic_calls(body, tool_names, result.errors)
        if calls:
            result.calls.extend(calls)
            result.text = (result.text[: match.start()] + result.text[match.end() :]).strip()
            return True
    return False


def _whole(result: ContentParse, tool_names: Collection[str]) -> bool:
    """The whole text is a call (or calls, or `[]`); a call mixed with prose is an answer, not a call."""
    body = result.text
    if body == "[]":
        result.text = ""
        return True
    calls = _json_calls(body) if body.startswith(("{", "[")) else None
    if calls is None:
        calls = _pythonic_calls(body, tool_names, result.errors)
    if calls:
        result.calls.extend(calls)
        result.text = ""
    return bool(calls)


def _json_calls(body: str) -> list[RawToolCall] | None:
    """Calls when `body` is nothing but JSON call objects (one, a list, or several separated by `;`)."""
    values = find_json_values(body)
    if not values or _SEPARATORS.sub("", _gaps(body, values)):
        return None
    calls: list[RawToolCall] = []
    for _, _, value in values:
        found = calls_from_value(value)
        if found is None:
            return None
        calls.extend(found)
    return calls


def _gaps(body: str, values: list[tuple[int, int, Any]]) -> str:
    edges = [0] + [i for start, end, _ in values for i in (start, end)] + [len(body)]
    return "".join(body[edges[i] : edges[i + 1]] for i in range(0, len(edges), 2))


def _pythonic_calls(body: str, tool_names: Collection[str], errors: list[str]) -> list[RawToolCall] | None:
    """Calls from `[f(a=1), g(b='x')]` (or one bare `f(a=1)` naming an offered tool), read with `ast`."""
    if not body.endswith((")", "]")) or "(" not in body:
        return None
    try:
        tree = ast.parse(body, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if isinstance(tree, ast.Call):
        if _call_name(tree.func) not in tool_names:
            return None
        nodes: list[ast.expr] = [tree]
    elif isinstance(tree, ast.List) and tree.elts and all(isinstance(e, ast.Call) for e in tree.elts):
        nodes = tree.elts
    else:
        return None
    calls = [_pythonic_call(node, errors) for node in nodes if isinstance(node, ast.Call)]
    return [call for call in calls if call is not None] or None


def _pythonic_call(node: ast.Call, errors: list[str]) -> RawToolCall | None:
    name = _call_name(node.func)
    if name is None:
        errors.append("a call's name must be a plain function name")
        return None
    if node.args or any(kw.arg is None for kw in node.keywords):
        errors.append(f"{name}(...) used positional arguments; write each argument as name=value")
        return None
    arguments: dict[str, Any] = {}
    for keyword in node.keywords:
        try:
            arguments[str(keyword.arg)] = _literal(keyword.value)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            errors.append(f"{name}(...): the value of {keyword.arg!r} is not a literal")
            return None
    return RawToolCall(name, arguments)


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    # Meta's built-in tools: `brave_search.call(query=...)` names the tool before `.call`.
    if isinstance(func, ast.Attribute) and func.attr == "call" and isinstance(func.value, ast.Name):
        return func.value.id
    return None


def _literal(node: ast.expr) -> Any:
    # A bare word (`unit=celsius`) is read as the string it spells; anything else must be a literal.
    if isinstance(node, ast.Name):
        return node.id
    return ast.literal_eval(node)


def _unfence(text: str) -> str:
    match = _FENCE.search(text)
    return match.group(1).strip() if match else text
