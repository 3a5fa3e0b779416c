"""The messages each of the plan strategy's model calls sends: the prompts of `prompts.py`, filled from the state.

Kept apart from the graph so the sync and async nodes build the same requests.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from castling.agents.plan import prompts
from castling.agents.plan.schemas import Plan, Replan
from castling.agents.plan.state import PlanState
from castling.backbones.wire import WireMessage, WireTool


def planner_messages(state: PlanState, tools: Sequence[WireTool], system: str | None) -> list[WireMessage]:
    """The planner's request: the tools, the thread's earlier turns, then the user's request."""
    prompt = prompts.PLANNER.format(tools=prompts.tool_lines(tools, with_schema=False))
    history = _earlier_turns(state["messages"][:-1])
    return [with_system(system, prompt), *history, {"role": "user", "content": objective(state)}]


def executor_messages(
    state: PlanState, tools: Sequence[WireTool], system: str | None, *, check_plan: bool, window: int | None = None
) -> list[WireMessage]:
    """The executor's request for the plan's first remaining step (with the plan check under `when_needed`)."""
    step = state["plan"][0]
    index = len(state.get("past_steps", [])) + 1
    prompt = prompts.EXECUTOR.format(tools=prompts.tool_lines(tools, with_schema=True))
    if check_plan:
        prompt += prompts.PLAN_CHECK
    current = f"Current step ({index}): {step['goal']}" + (
        f" (planned tool: {step['tool']})" if step.get("tool") else ""
    )
    progress = prompts.progress(objective(state), state.get("past_steps", []), state["plan"][1:], window)
    return [with_system(system, prompt), {"role": "user", "content": f"{progress}\n\n{current}"}]


def replanner_messages(
    state: PlanState, tools: Sequence[WireTool], system: str | None, window: int | None = None
) -> list[WireMessage]:
    """The re-planner's request: the tools, the results so far and the remaining plan."""
    prompt = prompts.REPLANNER.format(tools=prompts.tool_lines(tools, with_schema=False))
    progress = prompts.progress(objective(state), state.get("past_steps", []), state.get("plan", []), window)
    return [with_system(system, prompt), {"role": "user", "content": progress}]


def responder_messages(state: PlanState, system: str | None, window: int | None = None) -> list[WireMessage]:
    """The responder's request: answer from the results gathered so far."""
    progress = prompts.progress(objective(state), state.get("past_steps", []), [], window)
    return [with_system(system, prompts.RESPONDER), {"role": "user", "content": progress}]


def unknown_tools(reply: Plan | Replan, names: Collection[str]) -> list[str]:
    """The tools a (re-)plan names that are not among `names` (none when the re-planner is done)."""
    if isinstance(reply, Replan) and reply.done:
        return []
    known = set(names)
    return sorted({s.tool for s in reply.steps if s.tool and s.tool not in known})


def with_unknown_tools_note(
    messages: list[WireMessage], content: str, unknown: list[str], names: Sequence[str]
) -> list[WireMessage]:
    """The (re-)planner's request again, with its reply and a note naming the unknown tools and the real ones."""
    note = prompts.unknown_tools_note(unknown, names)
    return [*messages, {"role": "assistant", "content": content}, {"role": "user", "content": note}]


def with_system(system: str | None, prompt: str) -> WireMessage:
    """The system message: the agent's own system prompt (if any), then the call's prompt."""
    return {"role": "system", "content": f"{system}\n\n{prompt}" if system else prompt}


def objective(state: PlanState) -> str:
    """The user's request this run answers: the thread's last user message."""
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
