"""castling: a graph-based agent runtime for local models through Ollama.

The public names load lazily, so `import castling` (and the `castling` command) stays fast: langgraph is
imported only when an agent is built.
"""

from __future__ import annotations

import importlib
from typing import Any

from castling._version import __version__
from castling.errors import (
    CapabilityMissing,
    CastlingError,
    ConfigError,
    ModelNotFound,
    ModelStreamError,
    ModelTimeout,
    OllamaError,
    OllamaResponseError,
    OllamaUnreachable,
    StepLimitExceeded,
    ThinkingBudgetExhausted,
)

_LAZY: dict[str, str] = {}

__all__ = [
    "CapabilityMissing",
    "CastlingError",
    "ConfigError",
    "ModelNotFound",
    "ModelStreamError",
    "ModelTimeout",
    "OllamaError",
    "OllamaResponseError",
    "OllamaUnreachable",
    "StepLimitExceeded",
    "ThinkingBudgetExhausted",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'castling' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
