"""The plan strategy: plan, execute one step at a time, re-plan, answer.

START → planner ─┬─ steps ───→ decide → act → replanner ─┬─ steps left ─→ decide
                 ├─ answer ──→ final → END                 ├─ answer ─────→ final → END
                 ├─ no steps, no answer → respond → final
                 └─ limit ───→ limit → END                 ├─ nothing left → respond → final
                                                           └─ max_steps / max_replans → limit → END

The executor is two nodes: `decide` (the model call; its choice is stored as `pending`) and `act` (the approval
question, a LangGraph `interrupt()`, then the tool). LangGraph re-runs a node from its start on resume, so the
split keeps a resume from repeating the model call. With `replan="when_needed"`, `decide` goes straight to the
re-planner on "revise", and `act` goes back to `decide` while the plan is on track.

Every model call asks for JSON-schema output (`format`) and sends no `tools`: see `plan_structured`. Tools run
through the agent's `Toolbox`, so validation, timeouts and error results are the tools strategy's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StreamWriter

from castling.agents import plan_prompts as prompts
from castling.agents.approval import Approve
from castling.agents.events import PlanCreatedEvent, StepStartedEvent, TextDelta
from castling.agents.nodes import dual_node
from castling.agents.plan_schemas import FinalAnswer, Plan, Replan, StepAction, action_schema, steps_to_dicts
from castling.agents.plan_state import PlanState, ReplanMode, add_usage
from castling.agents.plan_steps import StepRun, approved, pending_step, plan_tuples, replanned, text_action
from castling.agents.plan_stream import AnswerStream, always, rest_of, when_done, when_no_steps
from castling.agents.plan_structured import Answer, FormatChoice, aask, ask, json_schema
from castling.agents.result import STOP_KEY
from castling.agents.toolbox import Toolbox, ToolOutcome
from castling.agents.tools_strategy import OnMaxSteps
from castling.backbones.base import Backbone
from castling.backbones.usage import Usage
from castling.backbones.wire import WireMessage
from castling.errors import ReplanLimitExceeded, StepLimitExceeded

Graph = CompiledStateGraph[Any, Any, Any, Any]
R = TypeVar("R", Plan, Replan)


@dataclass
class PlanStrategy:
    """The nodes and routing of plan-and-execute for one agent."""

    backbone: Backbone
    toolbox: Toolbox
    system: str | None
    max_steps: int
    on_max_steps: OnMaxSteps
    max_replans: int = 3
    replan: ReplanMode = "every_step"
    """`"every_step"`: the re-planner runs after each step. `"when_needed"`: only when the executor says the plan
    must change (it sees every result so far), after a failed step, and after the last step."""
    approve: Approve = None
    """Calls that wait for the user's decision (a LangGraph interrupt in the act node) before they run."""
    action_format: FormatChoice = field(init=False)
    """The executor's `format`: StepAction narrowed to the offered tools, the generic schema as fallback."""

    def __post_init__(self) -> None:
        narrow = action_schema(self.toolbox.wire, check_plan=self.replan == "when_needed")
        self.action_format = FormatChoice(narrow, json_schema(StepAction))

    def compile(self, checkpointer: BaseCheckpointSaver[Any] | None) -> Graph:
        graph = StateGraph(PlanState)
        graph.add_node("planner", dual_node_of(self, "planner"))
        graph.add_node("decide", dual_node_of(self, "decide"))
        graph.add_node("act", dual_node_of(self, "act"))
        graph.add_node("replanner", dual_node_of(self, "replanner"))
        graph.add_node("respond", dual_node_of(self, "respond"))
        graph.add_node("final", self.final)
        graph.add_node("limit", self.limit)
        graph.add_edge(START, "planner")
        targets = ["decide", "respond", "final", "limit"]
        graph.add_conditional_edges("planner", self.route, targets)
        graph.add_conditional_edges("decide", self.after_decide, ["replanner", "act"])
        graph.add_conditional_edges("act", self.after_step, ["replanner", "decide"])
        graph.add_conditional_edges("replanner", self.route, targets)
        graph.add_edge("respond", "final")
        graph.add_edge("final", END)
        graph.add_edge("limit", END)
        return graph.compile(checkpointer=checkpointer, name="castling-plan")

    def route(self, state: PlanState) -> str:
        if state.get("stop"):
            return "limit"
        if state.get("answer") is not None:
            return "final"
        return "decide" if state.get("plan") else "respond"

    def after_step(self, state: PlanState) -> str:
        if self.replan == "every_step" or not state.get("plan"):
            return "replanner"
        past = state.get("past_steps", [])
        if past and past[-1].get("error"):
            return "replanner"  # a failed step is worth a re-plan
        # At max_steps the re-planner may still answer from the results; otherwise it stops the run there.
        return "replanner" if state.get("steps", 0) >= self.max_steps else "decide"

    # -- planner ---------------------------------------------------------------------------------------------
    def planner(self, state: PlanState) -> dict[str, Any]:
        writer, stream = get_stream_writer(), AnswerStream(when_no_steps)
        messages = self._planner_messages(state)
        plan, usage, rejected, unknown = self._ask_plan(messages, Plan, writer, self.max_replans, stream)
        return {**self._planned(plan, usage, rejected, unknown, writer), "streamed": stream.shown}

    async def aplanner(self, state: PlanState) -> dict[str, Any]:
        writer, stream = get_stream_writer(), AnswerStream(when_no_steps)
        messages = self._planner_messages(state)
        plan, usage, rejected, unknown = await self._aask_plan(messages, Plan, writer, self.max_replans, stream)
        return {**self._planned(plan, usage, rejected, unknown, writer), "streamed": stream.shown}

    def _planner_messages(self, state: PlanState) -> list[WireMessage]:
        system = prompts.PLANNER.format(tools=prompts.tool_lines(self.toolbox.wire, with_schema=False))
        history = _earlier_turns(state["messages"][:-1])
        return [self._system(system), *history, {"role": "user", "content": _objective(state)}]

    def _planned(
        self, plan: Plan, usage: Usage, rejected: int, unknown: list[str], writer: StreamWriter
    ) -> dict[str, Any]:
        steps = steps_to_dicts(plan.steps)
        reason = "created" if not rejected else f"created after {rejected} re-plan(s) that named unknown tools"
        writer(PlanCreatedEvent(plan_tuples(steps)))
        answer = (plan.answer or "").strip() if not steps else ""
        return {
            "plan": steps,
            "plan_history": [{"steps": steps, "reason": reason}],
            "past_steps": [],
            "steps": 0,
            "replans": rejected,
            "answer": answer or None,
            "stop": "max_replans" if unknown else None,
            "usage": add_usage({}, usage),
            "revise": False,
            "checked_at": 0,
            "pending": None,
        }

    # -- executor: decide, then act ------------------------------------------------------------------------
    def decide(self, state: PlanState) -> dict[str, Any]:
        messages = self._start_step(state)
        answer = ask(self.backbone, messages, StepAction, get_stream_writer(), self._fallback, self.action_format)
        return self._decided(state, answer)

    async def adecide(self, state: PlanState) -> dict[str, Any]:
        messages, writer = self._start_step(state), get_stream_writer()
        answer = await aask(self.backbone, messages, StepAction, writer, self._fallback, self.action_format)
        return self._decided(state, answer)

    def _decided(self, state: PlanState, answer: Answer[StepAction]) -> dict[str, Any]:
        usage = add_usage(state, answer.usage)
        if self._must_revise(state, answer.value):
            return {"revise": True, "usage": usage}
        return {"pending": pending_step(state, answer.value, self.toolbox), "usage": usage}

    def after_decide(self, state: PlanState) -> str:
        return "replanner" if state.get("revise") else "act"

    def act(self, state: PlanState, config: RunnableConfig) -> dict[str, Any]:
        run = StepRun.pending(state, get_stream_writer())
        if run.call is not None:
            run.call, refused = approved(run.call, self.approve, self.toolbox)
            run.announce()
            checked = refused or self.toolbox.check(run.call.name, run.call.arguments)
            run.outcome = checked if isinstance(checked, ToolOutcome) else self.toolbox.run(checked, config)
        return run.finish()

    async def aact(self, state: PlanState, config: RunnableConfig) -> dict[str, Any]:
        run = StepRun.pending(state, get_stream_writer())
        if run.call is not None:
            run.call, refused = approved(run.call, self.approve, self.toolbox)
            run.announce()
            checked = refused or self.toolbox.check(run.call.name, run.call.arguments)
            run.outcome = checked if isinstance(checked, ToolOutcome) else await self.toolbox.arun(checked, config)
        return run.finish()

    def _must_revise(self, state: PlanState, action: StepAction) -> bool:
        # Honoured once per check: right after a (re-)plan the executor's "revise" is not sent back again.
        fresh = state.get("checked_at", 0) != len(state.get("past_steps", []))
        return self.replan == "when_needed" and action.plan == "revise" and fresh

    def _start_step(self, state: PlanState) -> list[WireMessage]:
        step = state["plan"][0]
        index = len(state.get("past_steps", [])) + 1
        get_stream_writer()(StepStartedEvent(index, str(step["goal"])))
        system = prompts.EXECUTOR.format(tools=prompts.tool_lines(self.toolbox.wire, with_schema=True))
        if self.replan == "when_needed":
            system += prompts.PLAN_CHECK
        current = f"Current step ({index}): {step['goal']}" + (
            f" (planned tool: {step['tool']})" if step.get("tool") else ""
        )
        progress = prompts.progress(_objective(state), state.get("past_steps", []), state["plan"][1:])
        return [self._system(system), {"role": "user", "content": f"{progress}\n\n{current}"}]

    def _fallback(self, turn: Any) -> StepAction | None:
        return text_action(self.backbone, turn, self.toolbox.names)

    # -- replanner -------------------------------------------------------------------------------------------
    def replanner(self, state: PlanState) -> dict[str, Any]:
        writer, stream = get_stream_writer(), AnswerStream(when_done)
        budget = self.max_replans - state.get("replans", 0)
        messages = self._replanner_messages(state)
        decision, usage, rejected, unknown = self._ask_plan(messages, Replan, writer, budget, stream)
        update = self._replanned(state, decision, usage, rejected, unknown, writer)
        return {**update, "streamed": stream.shown, "revise": False, "checked_at": len(state.get("past_steps", []))}

    async def areplanner(self, state: PlanState) -> dict[str, Any]:
        writer, stream = get_stream_writer(), AnswerStream(when_done)
        budget = self.max_replans - state.get("replans", 0)
        messages = self._replanner_messages(state)
        decision, usage, rejected, unknown = await self._aask_plan(messages, Replan, writer, budget, stream)
        update = self._replanned(state, decision, usage, rejected, unknown, writer)
        return {**update, "streamed": stream.shown, "revise": False, "checked_at": len(state.get("past_steps", []))}

    def _replanner_messages(self, state: PlanState) -> list[WireMessage]:
        system = prompts.REPLANNER.format(tools=prompts.tool_lines(self.toolbox.wire, with_schema=False))
        progress = prompts.progress(_objective(state), state.get("past_steps", []), state.get("plan", []))
        return [self._system(system), {"role": "user", "content": progress}]

    def _replanned(
        self,
        state: PlanState,
        decision: Replan,
        usage: Usage,
        rejected: int,
        unknown: list[str],
        writer: StreamWriter,
    ) -> dict[str, Any]:
        limits = (self.max_steps, self.max_replans)
        return replanned(state, decision, add_usage(state, usage), rejected, bool(unknown), limits, writer)

    # -- respond, final, limit -------------------------------------------------------------------------------
    def respond(self, state: PlanState) -> dict[str, Any]:
        stream = AnswerStream(always)
        answer = ask(self.backbone, self._respond_messages(state), FinalAnswer, get_stream_writer(), stream=stream)
        return {"answer": answer.value.answer, "usage": add_usage(state, answer.usage), "streamed": stream.shown}

    async def arespond(self, state: PlanState) -> dict[str, Any]:
        stream = AnswerStream(always)
        messages, writer = self._respond_messages(state), get_stream_writer()
        answer = await aask(self.backbone, messages, FinalAnswer, writer, stream=stream)
        return {"answer": answer.value.answer, "usage": add_usage(state, answer.usage), "streamed": stream.shown}

    def _respond_messages(self, state: PlanState) -> list[WireMessage]:
        progress = prompts.progress(_objective(state), state.get("past_steps", []), [])
        return [self._system(prompts.RESPONDER), {"role": "user", "content": progress}]

    def final(self, state: PlanState) -> dict[str, Any]:
        answer = state.get("answer") or ""
        rest = rest_of(answer, state.get("streamed") or "")  # most of it was streamed while the model wrote it
        if rest:
            get_stream_writer()(TextDelta(rest))
        return {"messages": [AIMessage(answer)]}

    def limit(self, state: PlanState) -> dict[str, Any]:
        stop = state.get("stop") or "max_steps"
        if stop == "max_steps":
            text = (
                f"I stopped after {self.max_steps} plan steps without finishing the plan (max_steps={self.max_steps}). "
                "Raise max_steps to let the agent continue."
            )
        else:
            text = (
                f"I stopped because the plan needed more than {self.max_replans} revisions "
                f"(max_replans={self.max_replans}; available tools: {', '.join(self.toolbox.names) or 'none'}). "
                "Raise max_replans or rephrase the request."
            )
        if self.on_max_steps == "error":
            if stop == "max_steps":
                raise StepLimitExceeded(text, max_steps=self.max_steps)
            raise ReplanLimitExceeded(text, max_replans=self.max_replans)
        done = prompts.progress(_objective(state), state.get("past_steps", []), [])
        return {"messages": [AIMessage(f"{text}\n\n{done}", response_metadata={STOP_KEY: stop})]}

    # -- helpers ---------------------------------------------------------------------------------------------
    def _ask_plan(
        self, messages: list[WireMessage], schema: type[R], writer: StreamWriter, budget: int, stream: AnswerStream
    ) -> tuple[R, Usage, int, list[str]]:
        usage, rejected = Usage(), 0
        while True:
            answer = ask(self.backbone, messages, schema, writer, stream=stream)
            usage, unknown = usage + answer.usage, self._unknown(answer.value)
            if not unknown or rejected >= budget:
                return answer.value, usage, rejected, unknown
            rejected += 1
            messages = self._replan_note(messages, answer.content, unknown)

    async def _aask_plan(
        self, messages: list[WireMessage], schema: type[R], writer: StreamWriter, budget: int, stream: AnswerStream
    ) -> tuple[R, Usage, int, list[str]]:
        usage, rejected = Usage(), 0
        while True:
            answer = await aask(self.backbone, messages, schema, writer, stream=stream)
            usage, unknown = usage + answer.usage, self._unknown(answer.value)
            if not unknown or rejected >= budget:
                return answer.value, usage, rejected, unknown
            rejected += 1
            messages = self._replan_note(messages, answer.content, unknown)

    def _unknown(self, reply: Plan | Replan) -> list[str]:
        if isinstance(reply, Replan) and reply.done:
            return []
        names = set(self.toolbox.names)
        return sorted({s.tool for s in reply.steps if s.tool and s.tool not in names})

    def _replan_note(self, messages: list[WireMessage], content: str, unknown: list[str]) -> list[WireMessage]:
        note = prompts.unknown_tools_note(unknown, self.toolbox.names)
        return [*messages, {"role": "assistant", "content": content}, {"role": "user", "content": note}]

    def _system(self, prompt: str) -> WireMessage:
        return {"role": "system", "content": f"{self.system}\n\n{prompt}" if self.system else prompt}


def dual_node_of(strategy: PlanStrategy, name: str) -> Any:
    """The dual sync/async node for `strategy.<name>` / `strategy.a<name>`."""
    return dual_node(name, getattr(strategy, name), getattr(strategy, f"a{name}"))


def _objective(state: PlanState) -> str:
    return next((m.text for m in reversed(state["messages"]) if isinstance(m, HumanMessage)), "")


def _earlier_turns(messages: Sequence[BaseMessage]) -> list[WireMessage]:
    """Earlier questions and answers of the thread (tool traffic left out), for a follow-up's planner."""
    turns: list[WireMessage] = []
    for message in messages:
        if isinstance(message, HumanMessage) and message.text:
            turns.append({"role": "user", "content": message.text})
        elif isinstance(message, AIMessage) and message.text and not message.tool_calls:
            turns.append({"role": "assistant", "content": message.text})
    return turns
