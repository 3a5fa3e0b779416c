"""Deterministic checks on a run's outcome; they live apart from the recording and survive re-recording."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from castling.scenarios.format import AnswerCheck, Expectation, Outcome, ToolCalledCheck
from castling.scenarios.names import not_registered, registered_check
from castling.scenarios.trajectory import check_trajectory


def check_all(expectations: Sequence[Expectation], outcome: Outcome) -> list[str]:
    """A message for every expectation the outcome does not meet (empty when all are met)."""
    return [problem for e in expectations if (problem := check(e, outcome))]


def check(expectation: Expectation, outcome: Outcome) -> str:
    """'' when met, else what failed and what the run did instead."""
    if expectation.final_answer is not None:
        return _answer(expectation.final_answer, outcome.final_answer)
    if expectation.tool_called is not None:
        return _called(expectation.tool_called, outcome)
    if expectation.tool_not_called is not None:
        name = expectation.tool_not_called.name
        count = sum(1 for c in outcome.tool_calls if c.name == name)
        return f"tool_not_called: {name} was called {count} time(s)" if count else ""
    if expectation.max_steps is not None:
        limit = expectation.max_steps
        return f"max_steps: the run took {outcome.steps} model steps (limit {limit})" if outcome.steps > limit else ""
    if expectation.no_error:
        return f"no_error: the run failed: {outcome.error}" if outcome.error else ""
    if expectation.custom is not None:
        return _custom(expectation.custom, outcome)
    if expectation.trajectory is not None:
        return check_trajectory(expectation.trajectory, outcome.tool_calls)
    return ""


def _as_list(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _answer(check: AnswerCheck, answer: str) -> str:
    shown = answer if len(answer) <= 200 else answer[:200] + "…"
    problems = [f"contains {n!r}" for n in _as_list(check.contains) if n not in answer]
    problems += [f"icontains {n!r}" for n in _as_list(check.icontains) if n.lower() not in answer.lower()]
    problems += [f"not_contains {n!r}" for n in _as_list(check.not_contains) if n in answer]
    if check.equals is not None and answer.strip() != check.equals.strip():
        problems.append(f"equals {check.equals!r}")
    if check.regex is not None and not re.search(check.regex, answer):
        problems.append(f"regex {check.regex!r}")
    return f"final_answer: expected {', '.join(problems)}; the answer was {shown!r}" if problems else ""


def _called(check: ToolCalledCheck, outcome: Outcome) -> str:
    calls = [c for c in outcome.tool_calls if c.name == check.name]
    matching = [c for c in calls if check.args is None or _args_match(check.args, c.arguments, check.match)]
    if len(matching) >= check.min and (check.max is None or len(matching) <= check.max):
        return ""
    wanted = f"{check.name}({check.args})" if check.args is not None else check.name
    bounds = f"at least {check.min}" + (f" and at most {check.max}" if check.max is not None else "")
    made = ", ".join(f"{c.name}({c.arguments})" for c in outcome.tool_calls) or "no tool calls"
    return f"tool_called: expected {wanted} {bounds} time(s), matched {len(matching)}; the run made {made}"


def _args_match(wanted: dict[str, Any], actual: dict[str, Any], mode: str) -> bool:
    if mode == "exact":
        return bool(_loose(wanted) == _loose(actual))
    return all(key in actual and _loose(actual[key]) == _loose(value) for key, value in wanted.items())


def _loose(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _loose(v) for k, v in value.items()}
    return value


def _custom(name: str, outcome: Outcome) -> str:
    function = registered_check(name)
    if function is None:
        return f"custom: {not_registered('check', name)}"
    verdict = function(outcome)
    ok, reason = verdict if isinstance(verdict, tuple) else (bool(verdict), "")
    return "" if ok else f"custom: {name} failed" + (f": {reason}" if reason else "")


def scaffold(outcome: Outcome) -> list[Expectation]:
    """Starting expectations for a fresh recording (review them: they describe what happened, not intent)."""
    found: list[Expectation] = []
    phrase = _key_phrase(outcome.final_answer)
    if phrase:
        found.append(Expectation(final_answer=AnswerCheck(contains=phrase)))
    seen: set[str] = set()
    for call in outcome.tool_calls:
        if call.name not in seen:
            seen.add(call.name)
            found.append(Expectation(tool_called=ToolCalledCheck(name=call.name, args=call.arguments)))
    found.append(Expectation(max_steps=outcome.steps + 2))
    found.append(Expectation(no_error=True))
    return found


def _key_phrase(answer: str) -> str:
    words = answer.strip().split()
    return " ".join(words[:4]).strip(".,;:!?") if words else ""
