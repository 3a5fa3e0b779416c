"""Backbones by family name, imported only when picked.

Names only: a family string never imports arbitrary code (scenario files name their backbone, and a scenario
file is data). Code adds its own backbone classes with `register_backbone`.

The one table of families the CLI (`--backbone`, `/backbone`, the default model) and the scenarios read. Kept
light (no httpx, pydantic or langchain-core at import) because `castling --help` reads it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from castling.errors import ConfigError

if TYPE_CHECKING:
    from castling.backbones.base import Backbone

BACKBONES: dict[str, str | type[Backbone]] = {
    "qwen": "castling.backbones.qwen:Qwen",
    "llama": "castling.backbones.llama:Llama",
}
"""Family → backbone class (or its `module:Class` path, imported when picked)."""
FALLBACK_FAMILY = "qwen"
"""What the chat and the scenarios use for a model no family claims: Qwen's backbone is plain native tool calling."""


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
    from castling.backbones.profiles import PROFILES  # pydantic: not needed for the family names alone

    name = model.rsplit("/", 1)[-1].lower()
    for family, profile in PROFILES.items():
        if family in BACKBONES and name.startswith(profile.model_prefixes):
            return family
    raise ConfigError(
        f"Cannot tell the backbone for model {model!r}: known families are {', '.join(sorted(BACKBONES))}. "
        f"Pick one explicitly, e.g. Agent(backbone=Qwen({model!r})) to use native tool calling."
    )


def family_or_fallback(model: str) -> str:
    """`family_for_model`, or `FALLBACK_FAMILY` when no registered family claims `model`."""
    try:
        return family_for_model(model)
    except ConfigError:
        return FALLBACK_FAMILY


def backbone_for_model(model: str, **options: Any) -> Backbone:
    """A backbone instance for a bare model name."""
    cls: Any = backbone_class(family_for_model(model))
    backbone: Backbone = cls(model, **options)
    return backbone
