"""How a scenario file is laid out as YAML: short things on one line, long text as literal blocks.

The rules, chosen for reading and for diffs:
- a streamed chunk is one line (`- {model: qwen3:8b, message: {role: assistant, content: Rome.}, done: false}`):
  a reply reads down the file one piece at a time, and a changed piece is a one-line diff;
- any other mapping or list that would take several lines in block style but fits in `FLOW_LIMIT` characters on
  one (no multi-line text inside) is written on one line: `tags: [qwen, constructed]`, `options: {num_ctx: 32768}`;
- the top-level sections (`agent:`, `recording:`, `outcome:`, ...) stay one field a line, and the items of
  the top-level lists (`expectations:`, `server:`, `model_turns:`) one item a line at least;
- multi-line text is a literal block (`|`), and long lines are never folded (a changed word changes one line).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

FLOW_LIMIT = 100
"""Characters a mapping or list may take on one line."""
_NO_WRAP = 1 << 30


class _Flow(dict[str, Any]):
    pass


class _FlowList(list[Any]):
    pass


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) and "\r" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def dump(data: dict[str, Any]) -> str:
    """The YAML text of a scenario file's data (keys in the order given)."""
    laid_out = {key: _top_level(key, value) for key, value in data.items()}
    return yaml.dump(laid_out, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=_NO_WRAP)


def _top_level(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _styled(v, k) for k, v in value.items()}
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return [_styled(v) for v in value]  # one expectation, one discovery answer, one turn per item
    return _styled(value, key)


def _styled(value: Any, key: str = "") -> Any:
    if key == "chunks" and isinstance(value, list):
        return [_Flow(c) if isinstance(c, dict) else c for c in value]
    if isinstance(value, dict):
        if value and _one_line(value):
            return _Flow(value)
        return {k: _styled(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if value and _one_line(value):
            return _FlowList(value)
        return [_styled(v) for v in value]
    return value


def _one_line(value: dict[str, Any] | list[Any]) -> bool:
    """Whether block style would take several lines and one line holds it."""
    if isinstance(value, dict) and len(value) == 1 and not isinstance(next(iter(value.values())), dict | list):
        return False  # `key: value` is one line already
    if _has_multiline(value) or len(json.dumps(value, ensure_ascii=False)) > 2 * FLOW_LIMIT:
        return False
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, allow_unicode=True, width=_NO_WRAP)
    return len(text.rstrip("\n")) <= FLOW_LIMIT


def _has_multiline(value: Any) -> bool:
    if isinstance(value, str):
        return "\n" in value
    if isinstance(value, dict):
        return any(_has_multiline(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_multiline(v) for v in value)
    return False
