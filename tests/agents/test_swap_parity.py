"""Swap parity: one task and one tool set under Qwen and Llama, with the tools and the plan strategy.

The traffic is constructed (ScriptedOllama) in the form each backbone really sends: Qwen's native `tool_calls`,
Llama 3.2's pythonic list left in `content` (ollama#7824), and JSON-schema replies for the plan strategy.
"""

import pytest
from plan_script import LYON, PARIS, script_paris_lyon, weather

from castling import Agent, Llama, Qwen
from castling.testing import ScriptedOllama

TASK = "Compare the weather in Paris and Lyon and tell me where to go."
ANSWER = "Go to Lyon: sunny and 22 C, while Paris has rain."
BACKBONES = {"qwen": (Qwen, "qwen3:8b"), "llama": (Llama, "llama3.2:3b")}


def script_tools(server, family):
    if family == "qwen":
        server.add_reply(
            thinking="Two cities.", tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})]
        )
    else:
        server.add_reply("[weather(city='Paris'), weather(city='Lyon')]")
    server.add_reply(ANSWER)


@pytest.mark.parametrize("strategy", ["tools", "plan"])
@pytest.mark.parametrize("family", ["qwen", "llama"])
def test_same_task_same_tools_same_outcome(family, strategy):
    cls, model = BACKBONES[family]
    server = ScriptedOllama(
        model, capabilities=("completion", "tools") if family == "llama" else ("completion", "tools", "thinking")
    )
    if strategy == "tools":
        script_tools(server, family)
    else:
        script_paris_lyon(server, ANSWER)
    agent = Agent(cls(model, transport=server.transport), tools=[weather], strategy=strategy)
    result = agent.run(TASK)

    assert result.answer == ANSWER
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [
        ("weather", {"city": "Paris"}, "rain, 14 C"),
        ("weather", {"city": "Lyon"}, "sun, 22 C"),
    ]
    assert server.pending == 0
    if strategy == "plan":
        assert [(p.goal, p.tool) for p in result.plan.steps] == [PARIS, LYON]
        assert not any(r.get("tools") for r in server.requests) and all(r.get("format") for r in server.requests)
    else:
        assert result.plan is None and result.steps == []
        assert all(r["tools"][0]["function"]["name"] == "weather" for r in server.requests)
