"""The plan strategy's replies (`llama-plan/`, `openai/llama-plan/`): built HERE and nowhere else.

The plan strategy's replies are JSON for the `format` schema each request sends; `PlanReplies` holds one builder
per reply kind and `plan_run` the order of the calls: see there when the plan strategy's wire format changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from castling.agents.plan.schemas import FinalAnswer, Plan, Replan, StepAction
from castling.scripted_openai import ScriptedOpenAI
from castling.testing import ScriptedOllama


@dataclass(frozen=True)
class Step:
    """One planned step and the tool call the executor makes for it (`tool=None`: the executor writes `result`)."""

    goal: str
    tool: str | None
    args: dict[str, Any] = field(default_factory=dict)
    result: str = ""


class PlanReplies:
    """Scripted replies in the exact shape the plan strategy asks for: JSON for the `format` schema it sends.

    One builder per reply kind: `plan`/`direct_answer` (planner, `Plan`), `action` (executor, `StepAction`),
    `replan_next`/`replan_done` (re-planner, `Replan`), `final` (responder, `FinalAnswer`), and `cut` (any reply
    stopped by `num_predict`, `done_reason: "length"`). Each validates its JSON against the strategy's pydantic
    model before queueing it, so a schema change fails the build here, at the builder to update. If the wire
    format changes, edit these builders (and `plan_run` if the order of calls changes), then run
    `python scenarios/_build_library.py plan`.
    """

    def __init__(self, server: ScriptedOllama | ScriptedOpenAI) -> None:
        self.server = server

    def plan(self, *steps: Step) -> None:
        self._send(Plan, {"steps": [self._step(s) for s in steps], "answer": None})

    def direct_answer(self, text: str) -> None:
        """The planner's reply when no tool is needed: no steps, the answer itself."""
        self._send(Plan, {"steps": [], "answer": text})

    def action(self, step: Step) -> None:
        self._send(StepAction, self._action(step))

    def replan_next(self, *remaining: Step) -> None:
        """The re-planner after a step that left work: not done, the steps still to do."""
        self._send(Replan, {"done": False, "answer": None, "steps": [self._step(s) for s in remaining]})

    def replan_done(self, answer: str) -> None:
        self._send(Replan, {"done": True, "answer": answer, "steps": []})

    def final(self, answer: str) -> None:
        self._send(FinalAnswer, {"answer": answer})

    def cut(self, step: Step, keep: int = 24) -> None:
        """The executor's action for `step`, cut off after `keep` characters by the output limit."""
        content = json.dumps(self._action(step), ensure_ascii=False)[:keep]
        if isinstance(self.server, ScriptedOpenAI):  # the same cut on each wire: OpenAI's word is finish_reason
            self.server.add_reply(content, finish_reason="length")
        else:
            self.server.add_reply(content, done_reason="length")

    @staticmethod
    def _step(step: Step) -> dict[str, Any]:
        return {"goal": step.goal, "tool": step.tool}

    @staticmethod
    def _action(step: Step) -> dict[str, Any]:
        if step.tool is None:
            return {"tool": None, "arguments": {}, "answer": step.result}
        return {"tool": step.tool, "arguments": step.args, "answer": None}

    def _send(self, schema: type[BaseModel], reply: dict[str, Any]) -> None:
        schema.model_validate(reply)  # the reply must be what the strategy would accept
        self.server.add_reply(json.dumps(reply, ensure_ascii=False))


def plan_run(replies: PlanReplies, steps: list[Step], answer: str) -> None:
    """The calls of an untroubled plan run: plan; then per step the executor and the re-planner; the answer last."""
    replies.plan(*steps)
    for index, step in enumerate(steps):
        replies.action(step)
        rest = steps[index + 1 :]
        if rest:
            replies.replan_next(*rest)
        else:
            replies.replan_done(answer)
