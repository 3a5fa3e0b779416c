"""castling: a graph-based agent runtime for local models through Ollama.

The public names load lazily, so `import castling` (and the `castling` command) stays fast: langgraph is
imported only when an agent is built. `_EXPORTS` is the one table of what is public and where it lives; the
imports under `TYPE_CHECKING` repeat it for type checkers, which cannot read a table (a test keeps the two equal).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from castling._version import __version__ as __version__

if TYPE_CHECKING:  # one statement per module: keep the grouping of `_EXPORTS`
    # isort: off
    from castling.agents.agent import (
        Agent as Agent,
    )
    from castling.agents.approval import (
        Decision as Decision,
        Resume as Resume,
    )
    from castling.agents.events import (
        ApprovalEvent as ApprovalEvent,
        CompactionEvent as CompactionEvent,
        Event as Event,
        FinalEvent as FinalEvent,
        PlanCreatedEvent as PlanCreatedEvent,
        PlanRevisedEvent as PlanRevisedEvent,
        StepFinishedEvent as StepFinishedEvent,
        StepStartedEvent as StepStartedEvent,
        TextDelta as TextDelta,
        ThinkingDelta as ThinkingDelta,
        ToolCallEvent as ToolCallEvent,
        ToolResultEvent as ToolResultEvent,
        UsageEvent as UsageEvent,
    )
    from castling.agents.result import (
        PlanRecord as PlanRecord,
        RunResult as RunResult,
        StepRecord as StepRecord,
        ToolCallRecord as ToolCallRecord,
    )
    from castling.backbones.base import (
        Backbone as Backbone,
    )
    from castling.backbones.context import (
        ContextPolicy as ContextPolicy,
    )
    from castling.backbones.llama import (
        Llama as Llama,
    )
    from castling.backbones.qwen import (
        Qwen as Qwen,
    )
    from castling.backbones.usage import (
        Usage as Usage,
    )
    from castling.errors import (
        CapabilityMissing as CapabilityMissing,
        CastlingError as CastlingError,
        CheckpointerUnavailable as CheckpointerUnavailable,
        ConfigError as ConfigError,
        ContextMemoryWarning as ContextMemoryWarning,
        ContextOverflow as ContextOverflow,
        ModelNotFound as ModelNotFound,
        ModelStreamError as ModelStreamError,
        ModelTimeout as ModelTimeout,
        OllamaError as OllamaError,
        OllamaResponseError as OllamaResponseError,
        OllamaUnreachable as OllamaUnreachable,
        ReplanLimitExceeded as ReplanLimitExceeded,
        ScenarioFileError as ScenarioFileError,
        ServerError as ServerError,
        ServerResponseError as ServerResponseError,
        ServerUnreachable as ServerUnreachable,
        StepLimitExceeded as StepLimitExceeded,
        StructuredOutputError as StructuredOutputError,
        ThinkingBudgetExhausted as ThinkingBudgetExhausted,
        ThreadBusy as ThreadBusy,
    )
    from castling.tools.decorator import (
        tool as tool,
    )
    # isort: on

_EXPORTS: dict[str, tuple[str, ...]] = {
    "castling.agents.agent": ("Agent",),
    "castling.agents.approval": ("Decision", "Resume"),
    "castling.agents.events": (
        "ApprovalEvent",
        "CompactionEvent",
        "Event",
        "FinalEvent",
        "PlanCreatedEvent",
        "PlanRevisedEvent",
        "StepFinishedEvent",
        "StepStartedEvent",
        "TextDelta",
        "ThinkingDelta",
        "ToolCallEvent",
        "ToolResultEvent",
        "UsageEvent",
    ),
    "castling.agents.result": ("PlanRecord", "RunResult", "StepRecord", "ToolCallRecord"),
    "castling.backbones.base": ("Backbone",),
    "castling.backbones.context": ("ContextPolicy",),
    "castling.backbones.llama": ("Llama",),
    "castling.backbones.qwen": ("Qwen",),
    "castling.backbones.usage": ("Usage",),
    "castling.errors": (
        "CapabilityMissing",
        "CastlingError",
        "CheckpointerUnavailable",
        "ConfigError",
        "ContextMemoryWarning",
        "ContextOverflow",
        "ModelNotFound",
        "ModelStreamError",
        "ModelTimeout",
        "OllamaError",
        "OllamaResponseError",
        "OllamaUnreachable",
        "ReplanLimitExceeded",
        "ScenarioFileError",
        "ServerError",
        "ServerResponseError",
        "ServerUnreachable",
        "StepLimitExceeded",
        "StructuredOutputError",
        "ThinkingBudgetExhausted",
        "ThreadBusy",
    ),
    "castling.tools.decorator": ("tool",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted([*_MODULE_OF, "__version__"])


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'castling' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
