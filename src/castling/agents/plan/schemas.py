"""The JSON shapes the plan strategy asks the model for, sent as Ollama's `format` (a JSON Schema).

Constrained decoding makes the reply parse without any tool-call template, so planning works with models that
lack the `tools` capability and sidesteps the llama3.x template's tool handling (ollama#6477, #6127, #7824).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from castling.backbones.tool_schema import inline_refs
from castling.backbones.wire import WireTool

PlanCheck = Literal["on_track", "revise"]


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
    """The executor's reply for one step: a tool call, or the step's result written directly.

    `plan` is asked for only with `replan="when_needed"`: the executor's verdict on the plan, given the results
    so far, before it acts.
    """

    plan: PlanCheck | None = Field(
        default=None,
        description='"on_track" if the remaining plan still fits the results so far, "revise" if it must change.',
    )
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


PLAN_CHECK: dict[str, Any] = {"type": "string", "enum": ["on_track", "revise"]}


def action_schema(tools: Sequence[WireTool], *, check_plan: bool = False) -> dict[str, Any]:
    """StepAction's JSON Schema narrowed to the offered tools: one `anyOf` branch per tool, plus "no tool".

    Each tool's branch pins `tool` to its name (`enum`) and `arguments` to the tool's own parameters schema, so
    constrained decoding (llama.cpp's schema-to-grammar in Ollama: `anyOf`, `enum`, nested objects) only lets
    the model write arguments that fit the tool it picked.
    """
    head = {"plan": PLAN_CHECK} if check_plan else {}
    required = [*head, "tool", "arguments", "answer"]
    branches = [
        {
            "type": "object",
            "properties": {
                **head,
                "tool": {"type": "string", "enum": [tool["function"]["name"]]},
                "arguments": _parameters(tool),
                "answer": {"type": "null"},
            },
            "required": required,
        }
        for tool in tools
    ]
    no_tool = {
        "type": "object",
        "properties": {
            **head,
            "tool": {"type": "null"},
            "arguments": {"type": "object", "properties": {}, "additionalProperties": False},
            "answer": {"type": "string"},
        },
        "required": required,
    }
    return {"anyOf": [*branches, no_tool]}


def _parameters(tool: WireTool) -> dict[str, Any]:
    parameters = tool["function"].get("parameters")
    if not isinstance(parameters, Mapping) or not parameters:
        return {"type": "object", "properties": {}}
    return inline_refs(dict(parameters))
