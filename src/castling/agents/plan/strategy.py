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

Every model call asks for JSON-schema output (`format`) and sends no `tools`: see `structured.py`. Tools run
through the agent's `Toolbox`, so validation, timeouts and error results are the tools strategy's.

This module holds the graph, its routing and the node bodies (the parts that wait on I/O); the requests each node
sends are built in `requests.py`, and the state updates they return in `steps.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StreamWriter

from castling.agents.approval import Approve
from castling.agents.events import StepStartedEvent, TextDelta
from castling.agents.interruption import plan_interruption_update
from castling.agents.nodes import dual_node
from castling.agents.plan import prompts
from castling.agents.plan.requests import (
    executor_messages,
    objective,
    planner_messages,
    replanner_messages,
    responder_messages,
    unknown_tools,
    with_unknown_tools_note,
)
from castling.agents.plan.schemas import FinalAnswer, Plan, Replan, StepAction, action_schema
from castling.agents.plan.state import PlanState, ReplanMode, add_usage
from castling.agents.plan.steps import StepRun, approved, pending_step, planned, replanned, text_action
from castling.agents.plan.stream import AnswerStream, always, rest_of, when_done, when_no_steps
from castling.agents.plan.structured import Answer, FormatChoice, ask, json_schema
from castling.agents.result import STOP_KEY
from castling.agents.toolbox import Toolbox, ToolOutcome
from castling.agents.tools_strategy import OnMaxSteps
from castling.backbones.base import Backbone
from castling.backbones.usage import Usage
from castling.backbones.wire import WireMessage
from castling.errors import ReplanLimitExceeded, StepLimitExceeded
from castling.sansio import Flow, both, io

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
        # The planner, decide, act and replanner nodes route themselves (a `Command`; `destinations` draws the
        # edges): a conditional edge would read the whole state afresh after each of them (every channel copied,
        # the messages merged again) and trace a run of its own, as in the tools strategy.
        routes = ("decide", "respond", "final", "limit")
        graph.add_node("planner", dual_node_of(self, "planner"), destinations=routes)
        graph.add_node("decide", dual_node_of(self, "decide"), destinations=("replanner", "act"))
        graph.add_node("act", dual_node_of(self, "act"), destinations=("replanner", "decide"))
        graph.add_node("replanner", dual_node_of(self, "replanner"), destinations=routes)
        graph.add_node("respond", dual_node_of(self, "respond"))
        graph.add_node("final", self.final)
        graph.add_node("limit", self.limit)
        graph.add_edge(START, "planner")
        graph.add_edge("respond", "final")
        graph.add_edge("final", END)
        graph.add_edge("limit", END)
        return graph.compile(checkpointer=checkpointer, name="castling-plan")

    def recursion_limit(self) -> int:
        # Per step decide, act, replanner; each "revise" adds decide and replanner.
        return self.max_steps * 3 + self.max_replans * 2 + 10

    def interruption_update(
        self,
        values: Mapping[str, Any],
        next_nodes: Sequence[str],
        partial_text: str,
        partial_thinking: str = "",
        *,
        error: str | None = None,
    ) -> tuple[dict[str, Any], str] | None:
        # The plan graph has no "model" / "tools" nodes, and a step may be pending: the run ends as `final`.
        update = plan_interruption_update(values, next_nodes, partial_text, partial_thinking, error=error)
        return (update, "final") if update else None

    def route(self, state: Mapping[str, Any]) -> str:
        """Where the run goes after the planner or the re-planner."""
        if state.get("stop"):
            return "limit"
        if state.get("answer") is not None:
            return "final"
        return "decide" if state.get("plan") else "respond"

    def after_step(self, state: Mapping[str, Any]) -> str:
        """Where the run goes after the act node."""
        if self.replan == "every_step" or not state.get("plan"):
            return "replanner"
        past = state.get("past_steps", [])
        if past and past[-1].get("error"):
            return "replanner"  # a failed step is worth a re-plan
        # At max_steps the re-planner may still answer from the results; otherwise it stops the run there.
        return "replanner" if state.get("steps", 0) >= self.max_steps else "decide"

    # -- planner ---------------------------------------------------------------------------------------------
    def planner(self, state: PlanState) -> Flow[Command[str]]:
        writer, stream = get_stream_writer(), AnswerStream(when_no_steps)
        messages = planner_messages(state, self.toolbox.wire, self.system)
        plan, usage, rejected, unknown = yield from self._ask_plan(messages, Plan, writer, self.max_replans, stream)
        update = {**planned(plan, usage, rejected, bool(unknown), writer), "streamed": stream.shown}
        return routed(state, update, self.route)

    # -- executor: decide, then act ------------------------------------------------------------------------
    def decide(self, state: PlanState) -> Flow[Command[str]]:
        messages, writer = self._start_step(state), get_stream_writer()
        answer = yield from ask(self.backbone, messages, StepAction, writer, self._fallback, self.action_format)
        return routed(state, self._decided(state, answer), self.after_decide)

    def _decided(self, state: PlanState, answer: Answer[StepAction]) -> dict[str, Any]:
        usage = add_usage(state, answer.usage)
        if self._must_revise(state, answer.value):
            return {"revise": True, "usage": usage}
        return {"pending": pending_step(state, answer.value, self.toolbox), "usage": usage}

    def after_decide(self, state: Mapping[str, Any]) -> str:
        """Where the run goes after the decide node."""
        return "replanner" if state.get("revise") else "act"

    def act(self, state: PlanState, config: RunnableConfig) -> Flow[Command[str]]:
        run = StepRun.pending(state, get_stream_writer())
        if run.call is not None:
            run.call, refused = approved(run.call, self.approve, self.toolbox)
            run.announce()
            checked = refused or self.toolbox.check(run.call.name, run.call.arguments)
            if isinstance(checked, ToolOutcome):
                run.outcome = checked
            else:  # sync runs keep the toolbox's sync path (no thread hand-off unless the tool has a timeout)
                run.outcome = yield from io(self.toolbox.run, self.toolbox.arun, checked, config)
        return routed(state, run.finish(), self.after_step)

    def _must_revise(self, state: PlanState, action: StepAction) -> bool:
        # Honoured once per check: right after a (re-)plan the executor's "revise" is not sent back again.
        fresh = state.get("checked_at", 0) != len(state.get("past_steps", []))
        return self.replan == "when_needed" and action.plan == "revise" and fresh

    def _start_step(self, state: PlanState) -> list[WireMessage]:
        index = len(state.get("past_steps", [])) + 1
        get_stream_writer()(StepStartedEvent(index, str(state["plan"][0]["goal"])))
        return executor_messages(
            state, self.toolbox.wire, self.system, check_plan=self.replan == "when_needed", window=self._window()
        )

    def _fallback(self, turn: Any) -> StepAction | None:
        return text_action(self.backbone, turn, self.toolbox.names)

    # -- replanner -------------------------------------------------------------------------------------------
    def replanner(self, state: PlanState) -> Flow[Command[str]]:
        writer, stream = get_stream_writer(), AnswerStream(when_done)
        budget = self.max_replans - state.get("replans", 0)
        messages = replanner_messages(state, self.toolbox.wire, self.system, self._window())
        decision, usage, rejected, unknown = yield from self._ask_plan(messages, Replan, writer, budget, stream)
        update = self._replanned(state, decision, usage, rejected, unknown, writer)
        checked = {"streamed": stream.shown, "revise": False, "checked_at": len(state.get("past_steps", []))}
        return routed(state, {**update, **checked}, self.route)

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
    def respond(self, state: PlanState) -> Flow[dict[str, Any]]:
        stream, messages = AnswerStream(always), responder_messages(state, self.system, self._window())
        answer = yield from ask(self.backbone, messages, FinalAnswer, get_stream_writer(), stream=stream)
        return {"answer": answer.value.answer, "usage": add_usage(state, answer.usage), "streamed": stream.shown}

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
        done = prompts.progress(objective(state), state.get("past_steps", []), [])
        return {"messages": [AIMessage(f"{text}\n\n{done}", response_metadata={STOP_KEY: stop})]}

    # -- helpers ---------------------------------------------------------------------------------------------
    def _window(self) -> int | None:
        """The context window of the backbone's last request: step results are quoted within a share of it."""
        return self.backbone.context_guard.window_seen

    def _ask_plan(
        self, messages: list[WireMessage], schema: type[R], writer: StreamWriter, budget: int, stream: AnswerStream
    ) -> Flow[tuple[R, Usage, int, list[str]]]:
        usage, rejected = Usage(), 0
        while True:
            answer = yield from ask(self.backbone, messages, schema, writer, stream=stream)
            usage, unknown = usage + answer.usage, unknown_tools(answer.value, self.toolbox.names)
            if not unknown or rejected >= budget:
                return answer.value, usage, rejected, unknown
            rejected += 1
            messages = with_unknown_tools_note(messages, answer.content, unknown, self.toolbox.names)


def routed(state: PlanState, update: dict[str, Any], route: Callable[[Mapping[str, Any]], str]) -> Command[str]:
    """`update`, and the node `route` picks from the state as it will be after it.

    Routes read only last-value channels (never `messages`, the one with a reducer), so the update laid over the
    state is exactly what a conditional edge would have read.
    """
    return Command(update=update, goto=route({**state, **update}))


def dual_node_of(strategy: PlanStrategy, name: str) -> Any:
    """The node that drives the flow `strategy.<name>` with sync I/O under `invoke`, async under `ainvoke`."""
    return dual_node(name, *both(getattr(strategy, name)))
