"""Coerce tool-call argument values to the types the tool's JSON Schema asks for.

Models often send `"3"` for an integer or a JSON-encoded string for an object, and text-format calls carry
every value as a string; the tool should see the value its schema promised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def coerce_arguments(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return `arguments` with each value coerced to its property's schema type where that is unambiguous."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    return {key: coerce_value(value, properties.get(key) or {}) for key, value in arguments.items()}


def coerce_value(value: Any, schema: Mapping[str, Any]) -> Any:
    """Coerce one value; values that do not convert cleanly are returned unchanged for validation to report."""
    for kind in _types(schema):
        converted = _convert(value, kind, schema)
        if converted is not _NO:
            return converted
    return value


_NO = object()


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    options = schema.get("anyOf") or schema.get("oneOf") or []
    return [k for option in options for k in _types(option)]


def _convert(value: Any, kind: str, schema: Mapping[str, Any]) -> Any:
    if kind == "string":
        return value if isinstance(value, str) else _NO if isinstance(value, dict | list) else str(value)
    if kind == "integer":
        return _to_int(value)
    if kind == "number":
        return _to_number(value)
    if kind == "boolean":
        return _to_bool(value)
    if kind in ("array", "object"):
        return _to_container(value, kind, schema)
    if kind == "null":
        return None if value is None or value == "null" else _NO
    return _NO


def _to_int(value: Any) -> Any:
    if isinstance(value, bool):
        return _NO
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            number = _to_number(value)
            return int(number) if isinstance(number, float) and number.is_integer() else _NO
    return _NO


def _to_number(value: Any) -> Any:
    if isinstance(value, bool):
        return _NO
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return _NO
    return _NO


def _to_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return _NO


def _to_container(value: Any, kind: str, schema: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return _NO
    if kind == "array" and isinstance(value, list):
        items = schema.get("items") or {}
        return [coerce_value(v, items) for v in value]
    if kind == "object" and isinstance(value, dict):
        return coerce_arguments(value, schema) if schema.get("properties") else value
    return _NO
