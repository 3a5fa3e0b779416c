"""Tool schemas in the shape Ollama's client passes on.

The `ollama` client's `Tool` model keeps only `type`, `items`, `description` and `enum` per property (pydantic
`extra="ignore"`), so `Optional[int]` (an `anyOf` with null) reaches the model with no type at all. Optional
values are already expressed by leaving the property out of `required`, so `anyOf: [X, null]` becomes X.
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
