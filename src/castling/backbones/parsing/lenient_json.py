"""Read the almost-JSON that models write: trailing commas, single quotes, Python literals.

Never `eval`: what JSON cannot read goes to `ast.literal_eval`, which only builds literals.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def loads_lenient(text: str) -> Any:
    """Parse `text` as JSON, then as JSON without trailing commas, then as a Python literal.

    Raises:
        ValueError: when none of them reads it.
    """
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text))
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError(f"not JSON: {text[:80]!r}") from exc


def find_json_values(text: str) -> list[tuple[int, int, Any]]:
    """Every top-level JSON object or array embedded in `text`, as (start, end, value)."""
    decoder = json.JSONDecoder()
    found: list[tuple[int, int, Any]] = []
    index = 0
    while True:
        starts = [i for i in (text.find("{", index), text.find("[", index)) if i != -1]
        if not starts:
            return found
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            index = start + 1
            continue
        found.append((start, end, value))
        index = end
