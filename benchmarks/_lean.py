"""The pieces every lean hand-written LangGraph floor shares: the `add` tool, its schema, the state, the graph."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


ADD_SCHEMA = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "required": ["a", "b"],
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        },
    },
}


class LeanState(TypedDict):
    messages: Annotated[list[dict[str, Any]], operator.add]


def _route(state: LeanState) -> str:
    return "tools" if state["messages"][-1].get("tool_calls") else END


def lean_graph(model_node: Any, tools_node: Any) -> Any:
    """model → tools → model … until a reply without calls: the smallest tools loop LangGraph runs."""
    graph = StateGraph(LeanState)
    graph.add_node("model", model_node)
    graph.add_node("tools", tools_node)
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", _route, ["tools", END])
    graph.add_edge("tools", "model")
    return graph.compile()
