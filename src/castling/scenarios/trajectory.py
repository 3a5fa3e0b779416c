"""Trajectory matching: a run's tool calls against a reference list, in agentevals' four modes.

Calls are compared by name and arguments (`exact`: equal, numbers compared loosely so `2 == 2.0`; `partial`:
the reference's keys with those values, extra keys allowed; a reference call without `args` matches any
arguments). Unordered modes pair calls one to one (a reference call can be used once), found by augmenting
paths, so a greedy first match cannot hide a valid pairing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from castling.scenarios.format import ToolCallOutcome, TrajectoryCall, TrajectoryCheck


def check_trajectory(check: TrajectoryCheck, calls: Sequence[ToolCallOutcome]) -> str:
    """'' when the run's calls match the reference in `check.mode`, else what differs."""
    reference = check.calls
    problem = _problem(check, reference, calls)
    if not problem:
        return ""
    made = ", ".join(f"{c.name}({c.arguments})" for c in calls) or "no tool calls"
    wanted = ", ".join(f"{c.name}({c.args if c.args is not None else '…'})" for c in reference) or "no tool calls"
    return f"trajectory ({check.mode}, args {check.args}): {problem}; expected {wanted}; the run made {made}"


def _problem(check: TrajectoryCheck, reference: Sequence[TrajectoryCall], calls: Sequence[ToolCallOutcome]) -> str:
    if check.mode == "strict":
        if len(calls) != len(reference):
            return f"{len(calls)} call(s) where {len(reference)} were expected"
        for index, (want, got) in enumerate(zip(reference, calls, strict=True)):
            if not call_matches(want, got, check.args):
                return f"call {index + 1} differs"
        return ""
    pairs = _pairing(reference, calls, check.args)
    if check.mode == "unordered":
        if len(calls) != len(reference) or pairs < len(reference):
            return f"{pairs} of {len(reference)} expected call(s) matched among {len(calls)} made"
        return ""
    if check.mode == "subset":  # nothing beyond the reference
        return "" if pairs == len(calls) else f"{len(calls) - pairs} call(s) not in the reference"
    return "" if pairs == len(reference) else f"{len(reference) - pairs} expected call(s) missing"  # superset


def call_matches(want: TrajectoryCall, got: ToolCallOutcome, args: str) -> bool:
    """One reference call against one made call."""
    if want.name != got.name:
        return False
    if want.args is None:
        return True
    if args == "exact":
        return bool(_loose(want.args) == _loose(got.arguments))
    return all(key in got.arguments and _loose(got.arguments[key]) == _loose(v) for key, v in want.args.items())


def _pairing(reference: Sequence[TrajectoryCall], calls: Sequence[ToolCallOutcome], args: str) -> int:
    """The size of the largest one-to-one matching between reference and made calls (bipartite, Kuhn)."""
    edges = [[j for j, got in enumerate(calls) if call_matches(want, got, args)] for want in reference]
    owner: dict[int, int] = {}

    def assign(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or assign(owner[j], seen):
                owner[j] = i
                return True
        return False

    return sum(assign(i, set()) for i in range(len(reference)))


def _loose(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _loose(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_loose(v) for v in value]
    return value
