"""The JSON shapes the plan strategy asks the model for, sent as Ollama's `format` (a JSON Schema).

Constrained decoding makes the reply parse without any tool-call template, so planning works with models that
lack the `tools` capability and sidesteps the llama3.x template's tool handling (ollama#6477, #6127, #7824).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator


class PlanStep(BaseModel):
    """One step of a plan."""

    goal: str = Field(description="What this step must find out or do, in one sentence.")
    tool: str | None = Field(default=None, description="The tool this step will use, or null if none is needed.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        # A server that ignores `format` may send steps as plain strings; read them as goals.
        return {"goal": value} if isinstance(value, str) else value


class Plan(BaseModel):
    """The planner's reply: the steps, or a direct answer when no tool is needed."""

    steps: list[PlanStep] = Field(description="Steps in order; empty when the request needs no tool.")
    answer: str | None = Field(default=None, description="The reply to the user when steps is empty, else null.")


class StepAction(BaseModel):
    """The executor's reply for one step: a tool call, or the step's result written directly."""

    tool: str | None = Field(description="Name of the tool to call, or null to answer the step without a tool.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments.")
    answer: str | None = Field(default=None, description="The step's result when no tool is called.")


class Replan(BaseModel):
    """The re-planner's decision after a step."""

    done: bool = Field(description="True when the results so far answer the user's request.")
    answer: str | None = Field(default=None, description="The final answer to the user when done, else null.")
    steps: list[PlanStep] = Field(default_factory=list, description="The steps still to do when not done.")


class FinalAnswer(BaseModel):
    """A final answer written from the results gathered so far."""

    answer: str = Field(description="The final answer to the user.")


def steps_to_dicts(steps: list[PlanStep]) -> list[dict[str, Any]]:
    """Plan steps as plain dicts for the graph state (checkpoint-friendly)."""
    return [{"goal": step.goal, "tool": step.tool} for step in steps]
