"""The tools strategy: model → tools → model … until the model answers without calling a tool.

START → model ─┬─ tool calls ──────→ tools ─┬─ steps left → model
               ├─ unreadable call → repair → model
               └─ answer ──→ END           └─ limit hit ──→ limit → END
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StreamWriter

from castling.agents.approval import Approve, ask, needs_approval, rejected
from castling.agents.events import (
    TextDelta,
    ThinkingDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
    compaction_event,
)
from castling.agents.interruption import interruption_update
from castling.agents.messages import WireCache, reply_message
from castling.agents.nodes import dual_node
from castling.agents.result import STOP_KEY
from castling.agents.state import AgentState
from castling.agents.toolbox import Toolbox, ToolOutcome
from castling.backbones.base import Backbone, Reply, ToolGuide
from castling.backbones.parsing.holdback import HeldText
from castling.backbones.wire import DeltaKind, OnDelta, WireMessage
from castling.errors import StepLimitExceeded
from castling.sansio import Flow, both, io

OnMaxSteps = Literal["answer", "error"]


@dataclass
class ToolsStrategy:
    """The nodes and routing of the tools loop for one agent."""

    backbone: Backbone
    toolbox: Toolbox
    system: str | None
    max_steps: int
    on_max_steps: OnMaxSteps
    wire_cache: WireCache = field(default_factory=WireCache)
    approve: Approve = None
    """Calls that wait for the user's decision (a LangGraph interrupt) before they run."""
    prompt: str | None = field(init=False, default=None)
    """The system prompt sent: `system` plus the backbone's tool guide (Llama: the tools, on every turn)."""

    def __post_init__(self) -> None:
        guide = self.backbone.tool_guide(self.toolbox.wire) if isinstance(self.backbone, ToolGuide) else None
        self.prompt = "\n\n".join(part for part in (self.system, guide) if part) or None

    def compile(self, checkpointer: BaseCheckpointSaver[Any] | None) -> CompiledStateGraph[Any, Any, Any, Any]:
        graph = StateGraph(AgentState)
        # The model and tools nodes route themselves (a `Command`): a conditional edge would read the whole state
        # afresh after each of them (every channel copied, the new messages merged again) and trace a run of its
        # own: about 45 % of what castling cost per step over a lean LangGraph graph.
        graph.add_node("model", dual_node("model", *both(self.model)), destinations=("tools", "repair", END))
        graph.add_node("tools", dual_node("tools", self.tools, self.atools), destinations=("model", "limit"))
        graph.add_node("repair", self.repair)
        graph.add_node("limit", self.limit)
        graph.add_edge(START, "model")
        graph.add_edge("repair", "model")
        graph.add_edge("limit", END)
        return graph.compile(checkpointer=checkpointer, name="castling-tools")

    def recursion_limit(self) -> int:
        return self.max_steps * 3 + 10

    def interruption_update(
        self,
        values: Mapping[str, Any],
        next_nodes: Sequence[str],
        partial_text: str,
        partial_thinking: str = "",
        *,
        error: str | None = None,
    ) -> tuple[Command[str], str] | None:
        """The messages that keep the thread valid, recorded as `node` and routed on as that node would route."""
        messages = list(values.get("messages", []))
        update, node = interruption_update(messages, partial_text, partial_thinking, error=error)
        if not update:
            return None
        state: AgentState = {"messages": messages, "steps": values.get("steps", 0)}
        last = update[-1]
        goto = (
            self.after_model(state, last, state["steps"])
            if node == "model" and isinstance(last, AIMessage)
            else self.after_tools(state)
        )
        return Command(update={"messages": update}, goto=goto), node

    # -- model -----------------------------------------------------------------------------------------------
    def model(self, state: AgentState) -> Flow[Command[str]]:
        writer, backbone = get_stream_writer(), self.backbone
        held = HeldText(_deltas(writer))  # a call written as text is not streamed as the answer
        messages = self._messages(state)
        reply = yield from io(backbone.chat, backbone.achat, messages, tools=self.toolbox.wire, on_delta=held)
        held.finish(reply.text, recovered=reply.recovered)
        message, steps = self._record(state, reply, writer), state.get("steps", 0) + 1
        return Command(update={"messages": [message], "steps": steps}, goto=self.after_model(state, message, steps))

    def _messages(self, state: AgentState) -> list[WireMessage]:
        return self.wire_cache.to_wire(state["messages"], self.prompt)

    def _record(self, state: AgentState, reply: Reply, writer: StreamWriter) -> AIMessage:
        base = len(state["messages"])
        ids = [f"call_{base}_{i}" for i in range(len(reply.calls))]
        arguments = [self.toolbox.coerce(call.name, call.arguments) for call in reply.calls]
        if reply.compaction is not None:
            writer(compaction_event(reply.compaction))
        writer(UsageEvent(reply.turn.usage))
        return reply_message(reply, reply.turn, ids, arguments)

    def after_model(self, state: AgentState, reply: AIMessage, steps: int) -> str:
        """Where the run goes after the model node adds `reply` to `state` and counts `steps` model calls."""
        if reply.tool_calls:
            return "tools"
        if reply.additional_kwargs.get("parse_errors"):
            return "repair" if steps < self.max_steps else END
        if _empty_after_tool(state, reply) and steps < self.max_steps:
            return "repair"  # e.g. Llama's `[]` ("no call") after a tool result: ask once for the answer
        return END

    # -- tools -----------------------------------------------------------------------------------------------
    def tools(self, state: AgentState, config: RunnableConfig) -> Command[str]:
        writer = get_stream_writer()
        calls, decided, update = self._decide(state)
        results = []
        for call in calls:
            writer(_call_event(call, state))
            checked = decided.get(call["id"] or "") or self.toolbox.check(call["name"], call["args"])
            outcome = checked if isinstance(checked, ToolOutcome) else self.toolbox.run(checked, config)
            results.append(_tool_message(call, outcome, writer))
        return Command(update={"messages": update + results}, goto=self.after_tools(state))

    async def atools(self, state: AgentState, config: RunnableConfig) -> Command[str]:
        writer = get_stream_writer()
        calls, decided, update = self._decide(state)
        for call in calls:
            writer(_call_event(call, state))
        outcomes = await asyncio.gather(
            *(
                _done(decided[call["id"] or ""]) if call["id"] in decided else self._arun_one(call, config)
                for call in calls
            )
        )
        results = [_tool_message(call, outcome, writer) for call, outcome in zip(calls, outcomes, strict=True)]
        return Command(update={"messages": update + results}, goto=self.after_tools(state))

    def _decide(self, state: AgentState) -> tuple[list[ToolCall], dict[str, ToolOutcome], list[BaseMessage]]:
        """Ask for approval where the policy wants it, before anything runs or is reported.

        The node replays from its start on every resume, so nothing with side effects may come before the last
        `interrupt()`. Edited arguments replace the call in the recorded assistant message, so the history shows
        what really ran.
        """
        calls = list(_pending_calls(state))
        decided: dict[str, ToolOutcome] = {}
        edited = False
        for index, call in enumerate(calls):
            if not needs_approval(self.approve, call["name"], call["args"]):
                continue
            decision = ask(call)
            if decision.action == "reject":
                decided[call["id"] or ""] = rejected(decision.reason)
            elif decision.action == "edit" and decision.arguments is not None:
                calls[index] = {**call, "args": self.toolbox.coerce(call["name"], decision.arguments)}
                edited = True
        last = state["messages"][-1]
        update: list[BaseMessage] = [last.model_copy(update={"tool_calls": calls})] if edited else []
        return calls, decided, update

    async def _arun_one(self, call: ToolCall, config: RunnableConfig) -> ToolOutcome:
        checked = self.toolbox.check(call["name"], call["args"])
        return checked if isinstance(checked, ToolOutcome) else await self.toolbox.arun(checked, config)

    def after_tools(self, state: AgentState) -> str:
        return "limit" if state.get("steps", 0) >= self.max_steps else "model"

    # -- repair and limit ------------------------------------------------------------------------------------
    def repair(self, state: AgentState) -> dict[str, Any]:
        last = state["messages"][-1]
        problems = "; ".join(last.additional_kwargs.get("parse_errors", [])) if isinstance(last, AIMessage) else ""
        if not problems:
            return {"messages": [HumanMessage(_EMPTY_REPLY_NOTE)]}
        note = (
            f"Your tool call could not be read ({problems}). Call the tool again with a valid JSON object "
            f'{{"name": ..., "arguments": {{...}}}}, or answer without a tool. Available tools: '
            f"{', '.join(self.toolbox.names)}."
        )
        return {"messages": [HumanMessage(note)]}

    def limit(self, state: AgentState) -> dict[str, Any]:
        text = (
            f"I stopped after {self.max_steps} steps without reaching a final answer (max_steps={self.max_steps}). "
            "Raise max_steps to let the agent continue."
        )
        if self.on_max_steps == "error":
            raise StepLimitExceeded(text, max_steps=self.max_steps)
        return {"messages": [AIMessage(text, response_metadata={STOP_KEY: "max_steps"})]}


_EMPTY_REPLY_NOTE = (
    "You replied with no tool call and no text. Answer my question now, in plain text, from the tool results above."
)


def _empty_after_tool(state: AgentState, reply: AIMessage) -> bool:
    """`reply` (about to follow `state`'s messages) has no call and no text, and answers a tool result."""
    messages = state["messages"]
    empty = not reply.tool_calls and not reply.text.strip()
    return empty and bool(messages) and isinstance(messages[-1], ToolMessage)


async def _done(outcome: ToolOutcome) -> ToolOutcome:
    return outcome


def _deltas(writer: StreamWriter) -> OnDelta:
    def emit(kind: DeltaKind, text: str) -> None:
        writer(TextDelta(text) if kind == "text" else ThinkingDelta(text))

    return emit


def _pending_calls(state: AgentState) -> Sequence[ToolCall]:
    last = state["messages"][-1]
    return last.tool_calls if isinstance(last, AIMessage) else []


def _call_event(call: ToolCall, state: AgentState) -> ToolCallEvent:
    last: BaseMessage = state["messages"][-1]
    recovered = bool(last.additional_kwargs.get("recovered_tool_calls"))
    return ToolCallEvent(call["id"] or "", call["name"], dict(call["args"]), recovered)


def _tool_message(call: ToolCall, outcome: ToolOutcome, writer: StreamWriter) -> ToolMessage:
    call_id = call["id"] or ""
    writer(ToolResultEvent(call_id, call["name"], outcome.content, outcome.error))
    return ToolMessage(
        outcome.content,
        tool_call_id=call_id,
        name=call["name"],
        status="error" if outcome.error else "success",
        additional_kwargs={"error": outcome.error} if outcome.error else {},
    )
