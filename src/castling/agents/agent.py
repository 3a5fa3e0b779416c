"""The `Agent` facade: one object to run, stream and continue conversations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Literal

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StreamMode

from castling.agents.approval import APPROVAL_KIND, Approve, Resume
from castling.agents.events import ApprovalEvent, Event, FinalEvent
from castling.agents.interruption import interruption_update, plan_interruption_update
from castling.agents.plan_state import REPLAN_MODES, ReplanMode, with_plan
from castling.agents.plan_strategy import PlanStrategy
from castling.agents.result import RunResult, build_result, run_start_index
from castling.agents.toolbox import Toolbox, ToolLike
from castling.agents.tools_strategy import OnMaxSteps, ToolsStrategy
from castling.backbones.base import Backbone
from castling.backbones.registry import backbone_for_model
from castling.errors import ConfigError

Strategy = Literal["tools", "plan"]
Graph = CompiledStateGraph[Any, Any, Any, Any]


class Agent:
    """An agent: a backbone, tools and a strategy, compiled into a LangGraph graph.

    Example:
        agent = Agent(backbone=Qwen("qwen3:8b"), tools=[weather])
        result = agent.run("Weather in Paris and in Lyon?")
    """

    def __init__(
        self,
        backbone: Backbone | str,
        tools: Sequence[ToolLike] = (),
        *,
        strategy: Strategy | None = None,
        system: str | None = None,
        max_steps: int = 12,
        on_max_steps: OnMaxSteps = "answer",
        max_replans: int = 3,
        replan: ReplanMode = "every_step",
        tool_timeout: float | None = 120.0,
        checkpointer: BaseCheckpointSaver[Any] | None = None,
        host: str | None = None,
        approve: Approve = None,
    ) -> None:
        """Build the agent.

        Args:
            backbone: a backbone (`Qwen("qwen3:8b")`) or a model name, whose family picks the backbone.
            tools: langchain-core tools, typed Python functions (sync or async), or MCP servers (`mcp(...)`).
            strategy: `"tools"` (native tool loop) or `"plan"`; defaults to the backbone's own.
            system: a system prompt sent before the conversation.
            max_steps: most model calls in one run (tools strategy), or most plan steps (plan strategy).
            on_max_steps: `"answer"` ends the run with an answer saying the limit was hit; `"error"` raises
                `StepLimitExceeded` (or `ReplanLimitExceeded` for `max_replans`).
            max_replans: most plan revisions in one run (plan strategy).
            replan: when the plan strategy's re-planner runs: `"every_step"` (after each step) or
                `"when_needed"` (when the executor, seeing the results so far, says the plan must change; after a
                failed step; after the last step): one model call per step instead of two.
            tool_timeout: seconds an awaited tool call may take before it is cancelled and the model is told
                it timed out. Sync functions in sync runs are called inline (a deadline would need a thread per
                call and could not stop them); give such a tool its own `@tool(timeout=...)` to bound it.
            checkpointer: a LangGraph checkpointer for conversations that continue across runs; an in-memory
                one is created on the first run that names a `thread_id`.
            host: the Ollama server when `backbone` is a model name.
            approve: tool names (or a policy function) whose calls wait for approval: the stream ends with an
                `ApprovalEvent` and `astream(Resume(Decision(...)), thread_id=...)` continues.
        """
        if max_steps < 1:
            raise ConfigError(f"max_steps must be at least 1, got {max_steps}.")
        self.backbone = backbone_for_model(backbone, host=host) if isinstance(backbone, str) else backbone
        self.toolbox = Toolbox(tools, default_timeout=tool_timeout)
        self.strategy: Strategy = strategy or self.backbone.profile.default_strategy
        self.max_steps = max_steps
        self.max_replans = max_replans
        self.replan = replan
        self.approve = approve
        self._strategy = self._build_strategy(system, on_max_steps)
        self._checkpointer = checkpointer
        self._graphs: dict[bool, Graph] = {}

    def __repr__(self) -> str:
        return f"Agent({self.backbone!r}, tools={self.toolbox.names}, strategy={self.strategy!r})"

    def _build_strategy(self, system: str | None, on_max_steps: OnMaxSteps) -> ToolsStrategy | PlanStrategy:
        if self.strategy == "tools":
            return ToolsStrategy(
                self.backbone, self.toolbox, system, self.max_steps, on_max_steps, approve=self.approve
            )
        if self.strategy == "plan":
            if self.replan not in REPLAN_MODES:
                raise ConfigError(f"Unknown replan {self.replan!r}: use one of {', '.join(REPLAN_MODES)}.")
            if self.max_replans < 0:
                raise ConfigError(f"max_replans must be 0 or more, got {self.max_replans}.")
            return PlanStrategy(
                self.backbone,
                self.toolbox,
                system,
                self.max_steps,
                on_max_steps,
                self.max_replans,
                self.replan,
                approve=self.approve,
            )
        raise ConfigError(f"Unknown strategy {self.strategy!r}: use 'tools' or 'plan'.")

    # -- graphs ----------------------------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        """The compiled LangGraph graph (with the checkpointer, if one was given), for composing graphs."""
        return self._graph(self._checkpointer is not None)

    def _graph(self, persistent: bool) -> Graph:
        if persistent not in self._graphs:
            if persistent and self._checkpointer is None:
                from langgraph.checkpoint.memory import InMemorySaver

                self._checkpointer = InMemorySaver()
            self._graphs[persistent] = self._strategy.compile(self._checkpointer if persistent else None)
        return self._graphs[persistent]

    def _prepare(
        self, task: str | Resume, thread_id: str | None
    ) -> tuple[Graph, Any, RunnableConfig, str | None, str | None]:
        if thread_id is None and (self.approve or isinstance(task, Resume)):
            if isinstance(task, Resume):
                raise ConfigError("Resuming a run needs the thread_id of the run that paused.")
            thread_id = f"run-{uuid.uuid4().hex[:12]}"  # interrupts need a checkpointed thread
        config: RunnableConfig = {"recursion_limit": self._recursion_limit()}
        if thread_id is not None:
            config["configurable"] = {"thread_id": thread_id}
        graph = self._graph(thread_id is not None)
        if isinstance(task, Resume):
            from langgraph.types import Command

            return graph, Command(resume=task.decision.to_value()), config, None, thread_id
        input_id = f"input-{uuid.uuid4().hex[:12]}"
        inputs = {"messages": [HumanMessage(task, id=input_id)], "steps": 0}
        return graph, inputs, config, input_id, thread_id

    def _recursion_limit(self) -> int:
        if self.strategy == "plan":  # per step decide, act, replanner; each "revise" adds decide and replanner
            return self.max_steps * 3 + self.max_replans * 2 + 10
        return self.max_steps * 3 + 10

    # -- running ---------------------------------------------------------------------------------------------
    def run(self, task: str, *, thread_id: str | None = None) -> RunResult:
        """Run the agent on `task` and return the result; `thread_id` continues a conversation."""
        graph, inputs, config, input_id, thread_id = self._prepare(task, thread_id)
        state = graph.invoke(inputs, config)
        return _result(_not_paused(state), input_id, thread_id)

    async def arun(self, task: str, *, thread_id: str | None = None) -> RunResult:
        """Async `run`."""
        graph, inputs, config, input_id, thread_id = self._prepare(task, thread_id)
        state = await graph.ainvoke(inputs, config)
        return _result(_not_paused(state), input_id, thread_id)

    def stream(self, task: str | Resume, *, thread_id: str | None = None) -> Iterator[Event]:
        """Run the agent, yielding typed events as they happen.

        The last event is a `FinalEvent`, or an `ApprovalEvent` when a tool call waits for approval: then pass
        `Resume(Decision(...))` as the task, with the same `thread_id`, to continue.
        """
        graph, inputs, config, input_id, thread_id = self._prepare(task, thread_id)
        collector = _Collector(input_id, thread_id)
        for item in graph.stream(inputs, config, stream_mode=list(_STREAM_MODES)):
            event = collector.take(item)
            if event is not None:
                yield event
        yield collector.last()

    async def astream(self, task: str | Resume, *, thread_id: str | None = None) -> AsyncIterator[Event]:
        """Async `stream`."""
        graph, inputs, config, input_id, thread_id = self._prepare(task, thread_id)
        collector = _Collector(input_id, thread_id)
        async for item in graph.astream(inputs, config, stream_mode=list(_STREAM_MODES)):
            event = collector.take(item)
            if event is not None:
                yield event
        yield collector.last()

    async def arecord_interruption(
        self, thread_id: str, partial_text: str = "", partial_thinking: str = "", *, error: str | None = None
    ) -> None:
        """After a run on `thread_id` was cancelled, keep its history valid and the partial answer in it.

        Writes the partial answer as an assistant message marked interrupted, or an "interrupted" result for each
        tool call left without one, so the next message continues a well-formed conversation. With `error` (the
        run failed mid-reply) the partial answer is marked with the error instead. A plan run stopped at the
        approval question or while its tool ran records that step as interrupted, and the run ends there.
        """
        graph = self._graph(True)
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        snapshot = await graph.aget_state(config)
        values = snapshot.values or {}
        if self.strategy == "plan":  # the plan graph has no "model" / "tools" nodes, and a step may be pending
            plan_update = plan_interruption_update(values, snapshot.next, partial_text, partial_thinking, error=error)
            if plan_update:
                await graph.aupdate_state(config, plan_update, as_node="final")
            return
        messages = list(values.get("messages", []))
        update, node = interruption_update(messages, partial_text, partial_thinking, error=error)
        if update:
            await graph.aupdate_state(config, {"messages": update}, as_node=node)

    # -- lifetime --------------------------------------------------------------------------------------------
    def close(self) -> None:
        """End the session: tools release their resources (sandboxes, HTTP clients)."""
        self.toolbox.close()
        self.backbone.server.close()

    async def aclose(self) -> None:
        """Async `close`."""
        await self.toolbox.aclose()
        await self.backbone.server.aclose()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


_STREAM_MODES: tuple[StreamMode, ...] = ("custom", "values", "updates")


class _Collector:
    """Turns LangGraph stream items into castling events, keeping the final state and any approval pause."""

    def __init__(self, input_id: str | None, thread_id: str | None) -> None:
        self.input_id, self.thread_id = input_id, thread_id
        self.state: dict[str, Any] = {}
        self.approval: ApprovalEvent | None = None

    def take(self, item: Any) -> Event | None:
        mode, payload = item
        if mode == "custom":
            event: Event = payload
            return event
        if mode == "values":
            self.state = payload
        else:
            self.approval = self.approval or _approval(payload, self.thread_id)
        return None

    def last(self) -> Event:
        # Called after the stream is drained: leaving it early can drop the checkpointer's last write.
        return self.approval or FinalEvent(_result(self.state, self.input_id, self.thread_id))


def _not_paused(state: dict[str, Any]) -> dict[str, Any]:
    """The final state, or a ConfigError when the run stopped to wait for an approval `run()` cannot ask for."""
    if state.get("__interrupt__"):
        raise ConfigError(
            "The run paused for approval of a tool call, which run()/arun() cannot ask for: use "
            "agent.stream()/astream() and answer the ApprovalEvent with Resume(Decision(...))."
        )
    return state


def _approval(update: Any, thread_id: str | None) -> ApprovalEvent | None:
    """The approval request in an `updates` chunk, if the run paused for one."""
    interrupts = update.get("__interrupt__") if isinstance(update, dict) else None
    for item in interrupts or ():
        value = getattr(item, "value", None)
        if isinstance(value, dict) and value.get("kind") == APPROVAL_KIND:
            return ApprovalEvent(value["call_id"], value["name"], dict(value["arguments"]), thread_id or "")
    return None


def _result(state: dict[str, Any], input_id: str | None, thread_id: str | None) -> RunResult:
    messages = state.get("messages", [])
    if input_id is None:  # a resumed run: it started at the last user message
        start = next((i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], HumanMessage)), 0)
        return with_plan(build_result(messages, start, thread_id), state)
    return with_plan(build_result(messages, run_start_index(messages, input_id), thread_id), state)
