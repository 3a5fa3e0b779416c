"""castling: a graph-based agent runtime for local models through Ollama.

The public names load lazily, so `import castling` (and the `castling` command) stays fast: langgraph is
imported only when an agent is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from castling._version import __version__
from castling.errors import (
    CapabilityMissing,
    CastlingError,
    CheckpointerUnavailable,
    ConfigError,
    ContextMemoryWarning,
    ContextOverflow,
    ModelNotFound,
    ModelStreamError,
    ModelTimeout,
    OllamaError,
    OllamaResponseError,
    OllamaUnreachable,
    ReplanLimitExceeded,
    ScenarioFileError,
    ServerError,
    ServerResponseError,
    ServerUnreachable,
    StepLimitExceeded,
    StructuredOutputError,
    ThinkingBudgetExhausted,
    ThreadBusy,
)

if TYPE_CHECKING:
    from castling.agents.agent import Agent
    from castling.agents.approval import Decision, Resume
    from castling.agents.events import (
        ApprovalEvent,
        CompactionEvent,
        Event,
        FinalEvent,
        PlanCreatedEvent,
        PlanRevisedEvent,
        StepFinishedEvent,
        StepStartedEvent,
        TextDelta,
        ThinkingDelta,
        ToolCallEvent,
        ToolResultEvent,
        UsageEvent,
    )
    from castling.agents.result import PlanRecord, RunResult, StepRecord, ToolCallRecord
    from castling.backbones.base import Backbone
    from castling.backbones.context import ContextPolicy
    from castling.backbones.llama import Llama
    from castling.backbones.qwen import Qwen
    from castling.backbones.usage import Usage
    from castling.tools.decorator import tool

_LAZY: dict[str, str] = {
    "Agent": "castling.agents.agent",
    "ApprovalEvent": "castling.agents.events",
    "Backbone": "castling.backbones.base",
    "CompactionEvent": "castling.agents.events",
    "ContextPolicy": "castling.backbones.context",
    "Decision": "castling.agents.approval",
    "Event": "castling.agents.events",
    "FinalEvent": "castling.agents.events",
    "Llama": "castling.backbones.llama",
    "PlanCreatedEvent": "castling.agents.events",
    "PlanRecord": "castling.agents.result",
    "PlanRevisedEvent": "castling.agents.events",
    "Qwen": "castling.backbones.qwen",
    "Resume": "castling.agents.approval",
    "RunResult": "castling.agents.result",
    "StepFinishedEvent": "castling.agents.events",
    "StepRecord": "castling.agents.result",
    "StepStartedEvent": "castling.agents.events",
    "TextDelta": "castling.agents.events",
    "ThinkingDelta": "castling.agents.events",
    "ToolCallEvent": "castling.agents.events",
    "ToolCallRecord": "castling.agents.result",
    "ToolResultEvent": "castling.agents.events",
    "Usage": "castling.backbones.usage",
    "UsageEvent": "castling.agents.events",
    "tool": "castling.tools.decorator",
}

__all__ = [
    "Agent",
    "ApprovalEvent",
    "Backbone",
    "CapabilityMissing",
    "CastlingError",
    "CheckpointerUnavailable",
    "CompactionEvent",
    "ConfigError",
    "ContextMemoryWarning",
    "ContextOverflow",
    "ContextPolicy",
    "Decision",
    "Event",
    "FinalEvent",
    "Llama",
    "ModelNotFound",
    "ModelStreamError",
    "ModelTimeout",
    "OllamaError",
    "OllamaResponseError",
    "OllamaUnreachable",
    "PlanCreatedEvent",
    "PlanRecord",
    "PlanRevisedEvent",
    "Qwen",
    "ReplanLimitExceeded",
    "Resume",
    "RunResult",
    "ScenarioFileError",
    "ServerError",
    "ServerResponseError",
    "ServerUnreachable",
    "StepFinishedEvent",
    "StepLimitExceeded",
    "StepRecord",
    "StepStartedEvent",
    "StructuredOutputError",
    "TextDelta",
    "ThinkingBudgetExhausted",
    "ThinkingDelta",
    "ThreadBusy",
    "ToolCallEvent",
    "ToolCallRecord",
    "ToolResultEvent",
    "Usage",
    "UsageEvent",
    "__version__",
    "tool",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'castling' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
