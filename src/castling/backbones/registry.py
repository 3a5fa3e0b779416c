"""Backbones by family name, imported only when picked.

Names only: a family string never imports arbitrary code (scenario files name their backbone, and a scenario
file is data). Code adds its own backbone classes with `register_backbone`.
"""

from __future__ import annotations

import importlib
from typing import Any

from castling.backbones.base import Backbone
from castling.backbones.profiles import PROFILES
from castling.errors import ConfigError

BACKBONES: dict[str, str | type[Backbone]] = {
    "qwen": "castling.backbones.qwen:Qwen",
    "llama": "castling.backbones.llama:Llama",
}


def register_backbone(family: str, cls: type[Backbone]) -> None:
    """Make `cls` available under `family` (for scenario files, `castling` commands and `backbone_class`)."""
    BACKBONES[family] = cls


def backbone_class(family: str) -> type[Backbone]:
    """The backbone class registered for `family` (`qwen`, `llama`, or one added with `register_backbone`)."""
    entry = BACKBONES.get(family)
    if entry is None:
        raise ConfigError(
            f"Unknown backbone {family!r} (available: {', '.join(sorted(BACKBONES))}). "
            "Register a backbone of your own in code: castling.backbones.registry.register_backbone(name, cls)."
        )
    if not isinstance(entry, str):
        return entry
    module_name, _, attribute = entry.partition(":")
    try:
        cls: type[Backbone] = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"Cannot load backbone {family!r} ({entry}): {exc}") from exc
    return cls


def family_for_model(model: str) -> str:
    """The family whose model names `model` belongs to (`qwen3:8b` → `qwen`)."""
    name = model.rsplit("/", 1)[-1].lower()
    for family, profile in PROFILES.items():
        if family in BACKBONES and name.startswith(profile.model_prefixes):
            return family
    raise ConfigError(
        f"Cannot tell the backbone for model {model!r}: known families are {', '.join(sorted(BACKBONES))}. "
        f"Pick one explicitly, e.g. Agent(backbone=Qwen({model!r})) to use native tool calling."
    )


def backbone_for_model(model: str, **options: Any) -> Backbone:
    """A backbone instance for a bare model name."""
    cls: Any = backbone_class(family_for_model(model))
    backbone: Backbone = cls(model, **options)
    return backbone
