"""The agent strategies by name: what the facade needs of a strategy, and the one table that builds them.

Adding a strategy is one module with a class that fits `Strategy` plus a line in `STRATEGIES`; the facade has no
branch on strategy names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from castling.agents.approval import Approve
from castling.agents.plan.state import REPLAN_MODES, ReplanMode
from castling.agents.plan.strategy import PlanStrategy
from castling.agents.toolbox import Toolbox
from castling.agents.tools_strategy import OnMaxSteps, ToolsStrategy
from castling.backbones.base import Backbone
from castling.errors import ConfigError

Graph = CompiledStateGraph[Any, Any, Any, Any]
InterruptionUpdate = tuple[Any, str]
"""A state update (a dict, or a LangGraph `Command` that also says where the run goes on) and the node to record it
as."""


class Strategy(Protocol):
    """One way of running an agent, compiled into a LangGraph graph."""

    def compile(self, checkpointer: BaseCheckpointSaver[Any] | None) -> Graph:
        """The strategy's graph, checkpointed by `checkpointer` when given."""
        ...

    def recursion_limit(self) -> int:
        """LangGraph's `recursion_limit` for one run: the most super-steps the run's own limits allow, plus slack."""
        ...

    def interruption_update(
        self,
        values: Mapping[str, Any],
        next_nodes: Sequence[str],
        partial_text: str,
        partial_thinking: str = "",
        *,
        error: str | None = None,
    ) -> InterruptionUpdate | None:
        """What to write into a thread whose run was cancelled (Ctrl-C) so it stays valid; None if nothing."""
        ...


@dataclass(frozen=True)
class StrategySettings:
    """The agent's settings every strategy builder receives (each reads the ones it uses)."""

    backbone: Backbone
    toolbox: Toolbox
    system: str | None
    max_steps: int
    on_max_steps: OnMaxSteps
    max_replans: int
    replan: ReplanMode
    approve: Approve


StrategyBuilder = Callable[[StrategySettings], Strategy]


def _tools(s: StrategySettings) -> Strategy:
    return ToolsStrategy(s.backbone, s.toolbox, s.system, s.max_steps, s.on_max_steps, approve=s.approve)


def _plan(s: StrategySettings) -> Strategy:
    if s.replan not in REPLAN_MODES:
        raise ConfigError(f"Unknown replan {s.replan!r}: use one of {', '.join(REPLAN_MODES)}.")
    if s.max_replans < 0:
        raise ConfigError(f"max_replans must be 0 or more, got {s.max_replans}.")
    return PlanStrategy(
        s.backbone, s.toolbox, s.system, s.max_steps, s.on_max_steps, s.max_replans, s.replan, approve=s.approve
    )


STRATEGIES: dict[str, StrategyBuilder] = {"tools": _tools, "plan": _plan}


def build_strategy(name: str, settings: StrategySettings) -> Strategy:
    """The strategy called `name`, built for these settings; a ConfigError naming the known ones otherwise."""
    builder = STRATEGIES.get(name)
    if builder is None:
        known = " or ".join(repr(known) for known in STRATEGIES)
        raise ConfigError(f"Unknown strategy {name!r}: use {known}.")
    return builder(settings)
