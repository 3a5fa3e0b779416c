"""The executor's `format` is narrowed per tool: each tool's own argument schema, a pinned name, or no tool.

Replies are constructed in Ollama's wire shape with ScriptedOllama.
"""

from castling import Agent, Llama, tool
from castling.testing import ScriptedOllama
from tests.agents.plan_script import PARIS, act, done, more, plan, weather


@tool
def convert(amount: float, currency: str) -> str:
    """Convert euros to another currency."""
    return f"{amount * 1.1:.2f} {currency}"


def agent(server, tools):
    return Agent(Llama(server.model, transport=server.transport), tools=tools, strategy="plan")


def one_step(server):
    server.add_reply(plan(PARIS))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(done("Rain in Paris."))


def executor_format(server):
    return next(r["format"] for r in server.requests if "ONE step" in r["messages"][0]["content"])


def test_executor_format_offers_each_tool_with_its_own_argument_schema():
    server = ScriptedOllama("llama3.2:3b")
    one_step(server)
    result = agent(server, [weather, convert]).run("Weather in Paris?")
    assert result.answer == "Rain in Paris."

    branches = executor_format(server)["anyOf"]
    by_tool = {tuple(b["properties"]["tool"].get("enum", [None])): b for b in branches}
    assert set(by_tool) == {("weather",), ("convert",), (None,)}
    convert_args = by_tool[("convert",)]["properties"]["arguments"]
    assert convert_args["properties"]["amount"]["type"] == "number"
    assert sorted(convert_args["required"]) == ["amount", "currency"]
    assert by_tool[("weather",)]["properties"]["arguments"]["required"] == ["city"]
    no_tool = by_tool[(None,)]["properties"]
    assert no_tool["answer"] == {"type": "string"} and no_tool["arguments"]["additionalProperties"] is False
    assert all(b["required"] == ["tool", "arguments", "answer"] for b in branches)


def test_planner_and_replanner_keep_their_own_schemas():
    server = ScriptedOllama("llama3.2:3b")
    one_step(server)
    agent(server, [weather]).run("Weather in Paris?")
    planner, replanner = server.requests[0]["format"], server.requests[2]["format"]
    assert "steps" in planner["properties"] and "done" in replanner["properties"]


def test_a_server_that_refuses_the_schema_gets_the_generic_one_from_then_on():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(PARIS, ("Get the weather in Paris again", "weather")))
    server.add_error(500, "invalid JSON schema in format")
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(("Get the weather in Paris again", "weather")))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(done("Rain in Paris, twice."))

    result = agent(server, [weather]).run("Weather in Paris twice?")

    assert result.answer == "Rain in Paris, twice."
    assert [s.outcome for s in result.steps] == ["rain, 14 C", "rain, 14 C"]
    refused, retried, later = server.requests[1]["format"], server.requests[2]["format"], server.requests[4]["format"]
    assert "anyOf" in refused
    assert "anyOf" not in retried and retried["properties"]["arguments"]["type"] == "object"
    assert later == retried  # remembered: no second refused request
