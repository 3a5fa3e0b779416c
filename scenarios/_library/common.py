"""Paths and the expectation shorthands every task definition uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from castling.scenarios.format import AnswerCheck, Expectation, ToolCalledCheck

ROOT = Path(__file__).resolve().parent.parent  # scenarios/: the library's folders are written here
FIXTURES = Path("/work/shared/fixtures")


def answer(text: str, *, contains: str | list[str]) -> Expectation:
    return Expectation(final_answer=AnswerCheck(contains=contains))


def called(name: str, **args: Any) -> Expectation:
    return Expectation(tool_called=ToolCalledCheck(name=name, args=args or None))


def steps(limit: int) -> Expectation:
    return Expectation(max_steps=limit)


NO_ERROR = Expectation(no_error=True)
