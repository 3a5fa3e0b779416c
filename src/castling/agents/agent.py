"""The `Agent` facade: one object to run, stream and continue conversations.

Construction, graphs, thread locks and the run/stream/resume entry points live here; turning what the graph
gives back into events and a `RunResult` is `run_output.py`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Durability

from castling.agents.approval import Approve, Decision, Resume
from castling.agents.checkpointers import DualSaver, checkpointer_from
from castling.agents.events import Event
from castling.agents.plan.state import ReplanMode
from castling.agents.result import RunResult
from castling.agents.resume import DONE, resume_input
from castling.agents.run_output import STREAM_MODES, EventCollector, final_result, not_paused
from castling.agents.strategies import StrategySettings, build_strategy
from castling.agents.toolbox import Toolbox, ToolLike
from castling.agents.tools_strategy import OnMaxSteps
from castling.backbones.base import Backbone
from castling.backbones.context import ContextPolicy
from castling.backbones.context import Mode as ContextMode
from castling.backbones.profiles import Strategy as StrategyName
from castling.backbones.registry import backbone_for_model
from castling.errors import ConfigError

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
        strategy: StrategyName | None = None,
        system: str | None = None,
        max_steps: int = 12,
        on_max_steps: OnMaxSteps = "answer",
        max_replans: int = 3,
        replan: ReplanMode = "every_step",
        tool_timeout: float | None = 120.0,
        checkpointer: BaseCheckpointSaver[Any] | str | None = None,
        host: str | None = None,
        approve: Approve = None,
        context: ContextMode | ContextPolicy = "compact",
        durability: Durability = "sync",
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
            checkpointer: where conversations are kept between runs: `"postgresql://user@host:port/db"` (pooled,
                for many processes), `"sqlite:///path/to/file.db"`, or any LangGraph checkpointer. A URL's
                checkpointer is opened on first use and closed with the agent. Without one, an in-memory one is
                created on the first run that names a `thread_id`.
            host: the Ollama server when `backbone` is a model name.
            approve: tool names (or a policy function) whose calls wait for approval: the stream ends with an
                `ApprovalEvent` and `astream(Resume(Decision(...)), thread_id=...)` continues.
            context: what to do when a request would not fit the model's context window: `"compact"` (shrink
                old tool results; a `compaction` event says what), `"error"` (raise `ContextOverflow`), `"off"`
                (send as is), or a `ContextPolicy` with its own thresholds. The checkpoint keeps everything.
            durability: when LangGraph writes a step's checkpoint. `"sync"` (default): before the next step
                starts, so a finished tool call is stored before the next model call is sent and `resume()` never
                repeats it. `"async"`: while the next step runs (faster; a crash can lose the last step).
                `"exit"`: only when the run ends.
        """
        if max_steps < 1:
            raise ConfigError(f"max_steps must be at least 1, got {max_steps}.")
        self.backbone = backbone_for_model(backbone, host=host) if isinstance(backbone, str) else backbone
        self.toolbox = Toolbox(tools, default_timeout=tool_timeout)
        self.backbone.context_guard.policy = context if isinstance(context, ContextPolicy) else ContextPolicy(context)
        self.strategy: StrategyName = strategy or self.backbone.profile.default_strategy
        self.max_steps = max_steps
        self.max_replans = max_replans
        self.replan = replan
        self.approve = approve
        settings = StrategySettings(
            self.backbone, self.toolbox, system, max_steps, on_max_steps, max_replans, replan, approve
        )
        self._strategy = build_strategy(self.strategy, settings)
        self._checkpointer: BaseCheckpointSaver[Any] | None = None
        self._owns_checkpointer = False
        if checkpointer is not None:
            self._checkpointer, self._owns_checkpointer = checkpointer_from(checkpointer)
        self.durability: Durability = durability
        self._graphs: dict[bool, Graph] = {}

    def __repr__(self) -> str:
        return f"Agent({self.backbone!r}, tools={self.toolbox.names}, strategy={self.strategy!r})"

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
        config: RunnableConfig = {"recursion_limit": self._strategy.recursion_limit()}
        if thread_id is not None:
            config["configurable"] = {"thread_id": thread_id}
        graph = self._graph(thread_id is not None)
        if isinstance(task, Resume):
            from langgraph.types import Command

            return graph, Command(resume=task.decision.to_value()), config, None, thread_id
        input_id = f"input-{uuid.uuid4().hex[:12]}"
        inputs = {"messages": [HumanMessage(task, id=input_id)], "steps": 0}
        return graph, inputs, config, input_id, thread_id

    def _options(self, thread_id: str | None) -> dict[str, Any]:
        # LangGraph warns when `durability` is given to a graph without a checkpointer.
        return {"durability": self.durability} if thread_id is not None else {}

    def _holding(self, thread_id: str | None) -> contextlib.AbstractContextManager[None]:
        """One run at a time on a thread, when the checkpointer can say so (see checkpointers.py)."""
        saver = self._checkpointer
        if isinstance(saver, DualSaver) and thread_id is not None:
            return saver.thread_lock(thread_id)
        return contextlib.nullcontext()

    def _aholding(self, thread_id: str | None) -> contextlib.AbstractAsyncContextManager[None]:
        saver = self._checkpointer
        if isinstance(saver, DualSaver) and thread_id is not None:
            return saver.athread_lock(thread_id)
        return contextlib.nullcontext()

    # -- running ---------------------------------------------------------------------------------------------
    def run(self, task: str, *, thread_id: str | None = None) -> RunResult:
        """Run the agent on `task` and return the result; `thread_id` continues a conversation."""
        graph, inputs, config, input_id, thread_id = self._prepare(task, thread_id)
        with self._holding(thread_id):
            state = graph.invoke(inputs, config, **self._options(thread_id))
        return final_result(not_paused(state), input_id, thread_id)

    async def arun(self, task: str, *, thread_id: str | None = None) -> RunResult:
        """Async `run`."""
        graph, inputs, config, input_id, thread_id = self._prepare(task, thread_id)
        async with self._aholding(thread_id):
            state = await graph.ainvoke(inputs, config, **self._options(thread_id))
        return final_result(not_paused(state), input_id, thread_id)

    def resume(self, *, thread_id: str, decision: Decision | None = None) -> RunResult:
        """Continue the run on `thread_id` that stopped, from its last checkpoint, and return its result.

        A run stops when its process is killed, the model server fails, or a tool call waits for approval (then
        pass the `decision`). Steps that finished are not run again: with `durability="sync"` a tool's result is
        stored before the next model call starts. A run that had finished is returned as it ended, with no
        model call. Another process can resume it, given the same checkpointer (database URL).
        """
        graph = self._graph(True)
        config = self._thread_config(thread_id)
        with self._holding(thread_id):
            inputs = resume_input(graph.get_state(config), thread_id, decision)
            state = graph.invoke(inputs, config, **self._options(thread_id)) if inputs is not DONE else None
            state = state or graph.get_state(config).values
        return final_result(not_paused(state), None, thread_id)

    async def aresume(self, *, thread_id: str, decision: Decision | None = None) -> RunResult:
        """Async `resume`."""
        graph = self._graph(True)
        config = self._thread_config(thread_id)
        async with self._aholding(thread_id):
            inputs = resume_input(await graph.aget_state(config), thread_id, decision)
            state = await graph.ainvoke(inputs, config, **self._options(thread_id)) if inputs is not DONE else None
            state = state or (await graph.aget_state(config)).values
        return final_result(not_paused(state), None, thread_id)

    def _thread_config(self, thread_id: str) -> RunnableConfig:
        return {"recursion_limit": self._strategy.recursion_limit(), "configurable": {"thread_id": thread_id}}

    def stream(self, task: str | Resume, *, thread_id: str | None = None) -> Iterator[Event]:
        """Run the agent, yielding typed events as they happen.

        The last event is a `FinalEvent`, or an `ApprovalEvent` when a tool call waits for approval: then pass
        `Resume(Decision(...))` as the task, with the same `thread_id`, to continue.
        """
        graph, inputs, config, input_id, thread_id = self._prepare(task, thread_id)
        collector = EventCollector(input_id, thread_id)
        with self._holding(thread_id):
            for item in graph.stream(inputs, config, stream_mode=list(STREAM_MODES), **self._options(thread_id)):
                event = collector.take(item)
                if event is not None:
                    yield event
        yield collector.last()

    async def astream(self, task: str | Resume, *, thread_id: str | None = None) -> AsyncIterator[Event]:
        """Async `stream`."""
        graph, inputs, config, input_id, thread_id = self._prepare(task, thread_id)
        collector = EventCollector(input_id, thread_id)
        async with self._aholding(thread_id):
            options = self._options(thread_id)
            async for item in graph.astream(inputs, config, stream_mode=list(STREAM_MODES), **options):
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
        found = self._strategy.interruption_update(values, snapshot.next, partial_text, partial_thinking, error=error)
        if found is not None:
            update, node = found
            await graph.aupdate_state(config, update, as_node=node)

    # -- lifetime --------------------------------------------------------------------------------------------
    def close(self) -> None:
        """End the session: tools release their resources (sandboxes, HTTP clients), a URL's checkpointer closes."""
        self.toolbox.close()
        self.backbone.server.close()
        if self._owns_checkpointer and isinstance(self._checkpointer, DualSaver):
            self._checkpointer.close()

    async def aclose(self) -> None:
        """Async `close`."""
        await self.toolbox.aclose()
        await self.backbone.server.aclose()
        if self._owns_checkpointer and isinstance(self._checkpointer, DualSaver):
            await self._checkpointer.aclose()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
