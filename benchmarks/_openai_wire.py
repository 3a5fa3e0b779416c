"""The OpenAI-compatible wire in the step benchmark: castling with `server="openai"`, and its lean floor.

Both stream from `CountingOpenAI` (SSE) through an injected httpx transport. The floor is a hand-written LangGraph
graph reading the SSE lines with httpx itself (no OpenAI client: none is installed, and castling uses none): the
least any client must do on this wire (parse each event, join the call's argument string, send `tool_call_id`s).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from _lean import ADD_SCHEMA, LeanState, add, lean_graph
from _scripted import CountingOpenAI
from castling import Agent, Qwen

HOST, MODEL = "http://127.0.0.1:8000/v1", "Qwen/Qwen3-8B"


def castling_openai_runner(server: CountingOpenAI, steps: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    backbone = Qwen(MODEL, host=HOST, server="openai", transport=server.transport)
    agent = Agent(backbone, tools=[add], max_steps=steps)
    return (lambda: agent.run("count")), (lambda: agent.arun("count"))


def _request(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": messages,
        "tools": [ADD_SCHEMA],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def _assemble(lines: Iterable[str]) -> dict[str, Any]:
    """The assistant message from the SSE lines: text joined, calls joined by `index` (arguments as a string)."""
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    calls: dict[int, dict[str, Any]] = {}
    for line in lines:
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        for choice in json.loads(line[6:])["choices"]:
            delta = choice["delta"]
            message["content"] += delta.get("content") or ""
            for fragment in delta.get("tool_calls") or ():
                call = calls.setdefault(
                    fragment["index"], {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                )
                call["id"] = call["id"] or fragment.get("id", "")
                call["function"]["name"] += fragment.get("function", {}).get("name") or ""
                call["function"]["arguments"] += fragment.get("function", {}).get("arguments") or ""
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message


def _tools(state: LeanState) -> dict[str, Any]:
    calls = state["messages"][-1]["tool_calls"]
    return {
        "messages": [
            {"role": "tool", "tool_call_id": c["id"], "content": str(add(**json.loads(c["function"]["arguments"])))}
            for c in calls
        ]
    }


def lean_openai_runner(server: CountingOpenAI, steps: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    client = httpx.Client(base_url=HOST, transport=server.transport)
    aclient = httpx.AsyncClient(base_url=HOST, transport=server.transport)

    def model(state: LeanState) -> dict[str, Any]:
        with client.stream("POST", "/chat/completions", json=_request(state["messages"])) as response:
            return {"messages": [_assemble(response.iter_lines())]}

    async def amodel(state: LeanState) -> dict[str, Any]:
        async with aclient.stream("POST", "/chat/completions", json=_request(state["messages"])) as response:
            return {"messages": [_assemble([line async for line in response.aiter_lines()])]}

    sync_graph, async_graph = lean_graph(model, _tools), lean_graph(amodel, _tools)
    inputs = {"messages": [{"role": "user", "content": "count"}]}
    config = {"recursion_limit": 4 * steps}
    return (lambda: sync_graph.invoke(inputs, config)), (lambda: async_graph.ainvoke(inputs, config))
