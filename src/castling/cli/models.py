"""Choosing the model: the best installed tool-capable Qwen, else Llama, else any."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence

from castling.backbones.profiles import PROFILES


def rank(name: str) -> tuple[int, float, float]:
    """Sort key (lower is better): family preference, then newer generation, then more parameters.

    Families are preferred in the order of `PROFILES` (Qwen first: native tool calling), then any other model.
    """
    base = name.rsplit("/", 1)[-1].lower()
    prefixes = [profile.model_prefixes for profile in PROFILES.values()]
    family = next((i for i, own in enumerate(prefixes) if base.startswith(own)), len(prefixes))
    generation = re.match(r"[a-z]+(\d+(?:\.\d+)?)", base)
    size = re.search(r"[:\-_](\d+(?:\.\d+)?)b\b", base)
    return (
        family,
        -float(generation.group(1)) if generation else 0.0,
        -float(size.group(1)) if size else 0.0,
    )


async def choose_model(installed: Sequence[str], supports_tools: Callable[[str], Awaitable[bool]]) -> str | None:
    """The best installed model: tool-capable ones first, in `rank` order; None when nothing is installed."""
    ordered = sorted(installed, key=rank)
    for name in ordered:
        if await supports_tools(name):
            return name
    return ordered[0] if ordered else None
