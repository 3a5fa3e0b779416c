"""`replan="when_needed"`: the re-planner runs only when the executor says the plan must change, after a failed
step, and after the last step. Replies are constructed in Ollama's wire shape with ScriptedOllama.
"""

import json

import pytest

from castling import Agent, Llama
from castling.errors import ConfigError
from castling.testing import ScriptedOllama
from tests.agents.plan_script import LYON, PARIS, done, last_user, more, plan, weather

MARSEILLE = ("Get the weather in Marseille", "weather")


def step(verdict, city):
    return json.dumps({"plan": verdict, "tool": "weather", "arguments": {"city": city}, "answer": None})


def agent(server, **kwargs):
    return Agent(Llama(server.model, transport=server.transport), tools=[weather], replan="when_needed", **kwargs)


def test_on_track_steps_skip_the_replanner_until_the_last_one():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(PARIS, LYON))
    server.add_reply(step("on_track", "Paris"))
    server.add_reply(step("on_track", "Lyon"))
    server.add_reply(done("Lyon: sun. Paris: rain."))

    result = agent(server).run("Paris or Lyon?")

    assert server.nodes == ["planner", "decide", "decide", "replanner"]  # 4 calls, not 5
    assert [s.outcome for s in result.steps] == ["rain, 14 C", "sun, 22 C"]
    assert result.answer == "Lyon: sun. Paris: rain."
    assert "rain, 14 C" in last_user(server.requests[2])  # the executor judging the plan sees the results
    branches = server.requests[1]["format"]["anyOf"]
    assert all(b["properties"]["plan"]["enum"] == ["on_track", "revise"] for b in branches)
    assert '"revise"' in server.requests[1]["messages"][0]["content"]


def test_revise_sends_the_step_back_to_the_replanner_which_sees_past_steps_and_revises():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(PARIS, LYON))
    server.add_reply(step("on_track", "Paris"))
    server.add_reply(step("revise", "Lyon"))  # not run
    server.add_reply(more(MARSEILLE))
    server.add_reply(step("revise", "Marseille"))  # right after a re-plan: not sent back again
    server.add_reply(done("Go south."))

    result = agent(server, max_replans=1).run("Where is it sunny?")

    assert server.nodes == ["planner", "decide", "decide", "replanner", "decide", "replanner"]
    assert [c.arguments["city"] for c in result.tool_calls] == ["Paris", "Marseille"]
    assert "rain, 14 C" in last_user(server.requests[3])  # the re-planner sees the past steps
    assert [r.reason for r in result.plan.history] == ["created", "revised after step 1"]
    assert result.answer == "Go south."


def test_a_failed_step_is_followed_by_the_replanner():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(("Get the weather in Rome", "weather"), LYON))
    server.add_reply(step("on_track", "Rome"))  # weather() has no Rome: an error result
    server.add_reply(more(LYON))
    server.add_reply(step("on_track", "Lyon"))
    server.add_reply(done("Lyon: sun."))

    result = agent(server).run("Rome or Lyon?")

    assert server.nodes == ["planner", "decide", "replanner", "decide", "replanner"]
    assert result.steps[0].error and result.answer == "Lyon: sun."


def test_every_step_is_the_default_and_unknown_modes_are_refused():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(PARIS))
    server.add_reply(step("on_track", "Paris"))
    server.add_reply(done("Rain."))
    Agent(Llama(server.model, transport=server.transport), tools=[weather]).run("Paris?")
    assert server.nodes == ["planner", "decide", "replanner"]
    assert "plan" not in server.requests[1]["format"]["anyOf"][0]["properties"]
    with pytest.raises(ConfigError, match="when_needed"):
        Agent(Llama("llama3.2:3b"), tools=[weather], strategy="plan", replan="sometimes")


def test_max_steps_still_stops_a_run_whose_steps_all_look_on_track():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(PARIS, LYON, MARSEILLE))
    server.add_reply(step("on_track", "Paris"))
    server.add_reply(step("on_track", "Lyon"))
    server.add_reply(more(MARSEILLE))  # at the limit the re-planner runs and still has a step left

    result = agent(server, max_steps=2).run("Three cities?")

    assert server.nodes == ["planner", "decide", "decide", "replanner"]
    assert result.stop_reason == "max_steps" and len(result.steps) == 2
    assert "max_steps=2" in result.answer


async def test_arun_skips_and_revises_the_same_way():
    server = ScriptedOllama("llama3.2:3b")
    server.add_reply(plan(PARIS, LYON))
    server.add_reply(step("on_track", "Paris"))
    server.add_reply(step("revise", "Lyon"))
    server.add_reply(more(MARSEILLE))
    server.add_reply(step("on_track", "Marseille"))
    server.add_reply(done("Go south."))

    result = await agent(server).arun("Where is it sunny?")

    assert server.nodes == ["planner", "decide", "decide", "replanner", "decide", "replanner"]
    assert [c.arguments["city"] for c in result.tool_calls] == ["Paris", "Marseille"]
