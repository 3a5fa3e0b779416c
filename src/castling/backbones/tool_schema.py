"""Tool schemas as the servers take them.

Optional values are already expressed by leaving the property out of `required`, so a property's nullable
`anyOf: [X, null]` becomes X (`for_ollama`): Ollama's own tool types keep one `type` per property. Local `$ref`s
are inlined (`inline_refs`) so that a server or template that does not resolve references still shows the
model every nested field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def for_ollama(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """`parameters` with each property's nullable `anyOf` collapsed to its one non-null type."""
    properties = parameters.get("properties")
    if not isinstance(properties, Mapping):
        return dict(parameters)
    return {**parameters, "properties": {name: _collapse(spec) for name, spec in properties.items()}}


def _collapse(spec: Any) -> Any:
    if not isinstance(spec, Mapping) or "type" in spec:
        return spec
    options = spec.get("anyOf") or spec.get("oneOf")
    if not isinstance(options, list):
        return spec
    concrete = [o for o in options if isinstance(o, Mapping) and o.get("type") != "null"]
    if len(concrete) != 1:
        return spec
    merged = {k: v for k, v in spec.items() if k not in ("anyOf", "oneOf")}
    return {**concrete[0], **merged}


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its local `$ref`s (`#/$defs/...`) replaced by their definitions, `$defs` dropped."""
    definitions = schema.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items() if key != "$defs"}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result
