"""The expectation vocabulary of a scenario file: hand-written checks that re-recording never rewrites.

Part of the file format (`format.py` holds the `Scenario` that lists them and re-exports them); `expectations.py`
and `trajectory.py` evaluate them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from castling.scenarios.format_base import Strict


class AnswerCheck(Strict):
    """Checks on the final answer text."""

    contains: str | list[str] | None = None
    icontains: str | list[str] | None = None
    not_contains: str | list[str] | None = None
    equals: str | None = None
    regex: str | None = None


class ToolCalledCheck(Strict):
    """The tool was called (with these arguments, `partial` or `exact`) between min and max times."""

    name: str
    args: dict[str, Any] | None = None
    match: Literal["partial", "exact"] = "partial"
    min: int = 1
    max: int | None = None


class ToolNotCalledCheck(Strict):
    """The tool was never called."""

    name: str


class TrajectoryCall(Strict):
    """One expected tool call of a trajectory."""

    name: str
    args: dict[str, Any] | None = None
    """`None`: any arguments."""


class TrajectoryCheck(Strict):
    """The run's tool calls against a reference list (agentevals' trajectory match modes).

    `strict`: the same calls in the same order; `unordered`: the same calls in any order; `subset`: every call
    the run made is in the reference; `superset`: every reference call is among the run's calls.
    """

    calls: list[TrajectoryCall]
    mode: Literal["strict", "unordered", "subset", "superset"] = "strict"
    args: Literal["exact", "partial"] = "exact"
    """`partial`: the reference's arguments must appear with those values; others may be present."""


class Expectation(Strict):
    """One check on the outcome; exactly one field is set."""

    final_answer: AnswerCheck | None = None
    tool_called: ToolCalledCheck | None = None
    tool_not_called: ToolNotCalledCheck | None = None
    max_steps: int | None = None
    no_error: bool | None = None
    custom: str | None = None
    """A check registered by the host side (`register_check`, or configuration), never imported from the file."""
    trajectory: TrajectoryCheck | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Expectation:
        kinds = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError(f"an expectation has exactly one kind; got {kinds or 'none'}")
        return self
