"""Swap parity: one task and one tool set under Qwen and Llama, with the tools and the plan strategy.

The traffic is constructed (ScriptedOllama) in the form each backbone really sends: Qwen's native `tool_calls`,
Llama 3.2's pythonic list left in `content` (ollama#7824), and JSON-schema replies for the plan strategy; the
second test replays a real llama3.1 recording for the Llama x tools combination.
"""

import json
from pathlib import Path

import pytest
from langchain_core.tools import StructuredTool

from castling import Agent, Llama, Qwen
from castling.testing import ScriptedOllama
from tests.agents.plan_script import LYON, PARIS, act, done, plan, script_paris_lyon, weather

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


def recorded_exchange(name):
    path = Path("/work/shared/fixtures/11_dotnet_extensions_llama3.1_apichat_exchanges.json")
    return next(e for e in json.loads(path.read_text())["exchanges"] if e["name"] == name)


def get_person_age_tool():
    def GetPersonAge(personName: str) -> int:  # the recorded tool's own names
        """Gets the age of the specified person."""
        return {"Alice": 42}[personName]

    return StructuredTool.from_function(GetPersonAge)


@pytest.mark.parametrize("strategy", ["tools", "plan"])
@pytest.mark.parametrize("family", ["qwen", "llama"])
def test_recorded_task_same_outcome_under_every_combination(family, strategy):
    """Llama x tools replays the real llama3.1 exchange (dotnet/extensions); the other three are constructed."""
    cls, model = BACKBONES[family]
    server = ScriptedOllama(model, capabilities=("completion", "tools"))
    answer = recorded_exchange("FunctionResultContent_NonStreaming")["response"]
    if (family, strategy) == ("llama", "tools"):
        server.add_lines([recorded_exchange("FunctionCallContent_NonStreaming")["response"]])
        server.add_lines([answer])
    elif strategy == "tools":
        server.add_reply(tool_calls=[("GetPersonAge", {"personName": "Alice"})])
        server.add_reply(answer["message"]["content"])
    else:
        server.add_reply(plan(("Look up Alice's age", "GetPersonAge")))
        server.add_reply(act("GetPersonAge", personName="Alice"))
        server.add_reply(done(answer["message"]["content"]))
    result = Agent(cls(model, transport=server.transport), tools=[get_person_age_tool()], strategy=strategy).run(
        "How old is Alice?"
    )
    assert result.answer == "Alice is 42 years old."
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [
        ("GetPersonAge", {"personName": "Alice"}, "42")
    ]
