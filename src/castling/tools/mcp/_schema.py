"""MCP tool schemas reshaped for small local models.

MCP servers publish full JSON Schema: `$defs`/`$ref`, `type: ["string", "null"]`, `anyOf` with null, titles,
`$schema`, formats. Ollama's chat template renders what its client kept of it and llama.cpp's grammar rejects
several keywords, so a schema is reduced to the subset both handle: references inlined, nullable unions
collapsed to their one type (optional is already said by `required`), and only the keywords listed below kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_KEPT = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "items",
        "enum",
        "const",
        "anyOf",
        "oneOf",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "pattern",
        "additionalProperties",
        "default",
    }
)
"""Keywords kept; every other one (`$schema`, `title`, `format`, `if`/`then`, `not`, ...) is dropped."""

_MAX_DEPTH = 12
"""Recursive models cannot be inlined forever (`plan_schemas.inline_refs` would recurse without end): past this
depth a node becomes a bare object."""


def for_small_models(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """An MCP `inputSchema` as a flat, reference-free object schema that Ollama and llama.cpp accept."""
    if not isinstance(schema, Mapping):
        return {"type": "object", "properties": {}}
    definitions = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    cleaned = _Cleaner(definitions).clean(schema, 0)
    cleaned["type"] = "object"
    cleaned.setdefault("properties", {})
    return cleaned


class _Cleaner:
    def __init__(self, definitions: Mapping[str, Any]) -> None:
        self.definitions = definitions

    def clean(self, node: Mapping[str, Any], depth: int) -> dict[str, Any]:
        if depth > _MAX_DEPTH:
            return {"type": "object"}
        node = _collapse_nullable(_merge_all_of(self.resolve(node)))
        node = _merge_all_of(self.resolve(node))  # a collapsed `anyOf: [{$ref}, null]` leaves a reference
        cleaned: dict[str, Any] = {}
        for key, value in node.items():
            if key not in _KEPT or (key == "default" and value is None):
                continue
            if key == "properties" and isinstance(value, Mapping):
                cleaned[key] = {name: self.clean_any(spec, depth + 1) for name, spec in value.items()}
            elif key in ("items", "additionalProperties", "anyOf", "oneOf"):
                cleaned[key] = self.clean_any(value, depth + 1)
            else:
                cleaned[key] = value
        if "properties" in cleaned and "type" not in cleaned:
            cleaned["type"] = "object"
        return cleaned

    def clean_any(self, node: Any, depth: int) -> Any:
        if isinstance(node, list):
            return [self.clean_any(item, depth) for item in node]
        return self.clean(node, depth) if isinstance(node, Mapping) else node

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """`node` with a local `$ref` (`#/$defs/X` or `#/definitions/X`) replaced by its target; siblings win."""
        seen: set[str] = set()
        while isinstance(ref := node.get("$ref"), str) and ref not in seen:
            seen.add(ref)
            name = ref.removeprefix("#/$defs/").removeprefix("#/definitions/")
            target = self.definitions.get(name)
            if not isinstance(target, Mapping):
                return {k: v for k, v in node.items() if k != "$ref"}  # a remote or broken ref: keep the rest
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node


def _merge_all_of(node: Mapping[str, Any]) -> Mapping[str, Any]:
    # pydantic wraps a described reference as `allOf: [{...}]`; a one-element allOf is just that schema.
    parts = node.get("allOf")
    if not isinstance(parts, list) or len(parts) != 1 or not isinstance(parts[0], Mapping):
        return node
    rest = {k: v for k, v in node.items() if k != "allOf"}
    return {**parts[0], **rest}


def _collapse_nullable(node: Mapping[str, Any]) -> Mapping[str, Any]:
    kind = node.get("type")
    if isinstance(kind, list):
        concrete = [k for k in kind if k != "null"]
        return {**node, "type": concrete[0] if len(concrete) == 1 else concrete}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if not isinstance(options, list):
            continue
        concrete = [o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")]
        if len(concrete) == 1 and isinstance(concrete[0], Mapping):
            rest = {k: v for k, v in node.items() if k != key}
            return _collapse_nullable({**concrete[0], **rest})
        if len(concrete) < len(options):
            return {**node, key: concrete}
    return node
