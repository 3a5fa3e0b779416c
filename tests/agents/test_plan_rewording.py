"""A re-planner that only fills in what a step found (a reworded goal) does not count as a plan revision.

A revision is a change of the steps' tools or of their count (agents/plan/README.md), so a re-planner that writes
the city it just learned into the next goal does not use up `max_replans` while the steps and tools stay the same.
"""

from castling import Agent, Llama
from castling.testing import ScriptedOllama
from tests.agents.plan_script import act, done, more, plan, weather

FIRST = ("Get the weather in the first city", "weather")
SECOND = ("Get the weather in the second city", "weather")
THIRD = ("Get the weather in the third city", "weather")


def test_rewording_the_remaining_goals_is_not_a_revision():
    server = ScriptedOllama("llama3.1:8b", capabilities=("completion", "tools"))
    server.add_reply(plan(FIRST, SECOND, THIRD))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(("Get the weather in Lyon", "weather"), THIRD))  # same steps, same tools
    server.add_reply(act("weather", city="Lyon"))
    server.add_reply(more(("Get the weather in Paris again", "weather")))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(done("Lyon is sunnier."))
    agent = Agent(Llama(server.model, transport=server.transport), tools=[weather], max_replans=1)
    result = agent.run("Weather in Paris, then Lyon, then Paris again?")
    assert result.stop_reason == "answer" and result.answer == "Lyon is sunnier."
    assert result.plan.revisions == 0


def test_a_different_tool_or_step_count_is_a_revision():
    server = ScriptedOllama("llama3.1:8b", capabilities=("completion", "tools"))
    server.add_reply(plan(FIRST, SECOND))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(SECOND, THIRD))  # one more step than planned
    server.add_reply(act("weather", city="Lyon"))
    server.add_reply(more(THIRD))
    server.add_reply(act("weather", city="Nice"))
    server.add_reply(done("Nice."))
    agent = Agent(Llama(server.model, transport=server.transport), tools=[weather], max_replans=2)
    result = agent.run("Weather in three cities?")
    assert result.plan.revisions == 1
    assert result.answer == "Nice."
