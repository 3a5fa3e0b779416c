"""A pool of hosts (`host=[...]`) inside `with scenario(...)`: recorded and replayed like one server.

A live pool asks each host `/api/ps` (which models are loaded) to order its hosts; those probes are not model
traffic: they pass through to the live hosts while recording but are not written to the file, and a replay
answers them from the scenario's models. The live server is `ScriptedOllama` (constructed replies).
"""

from __future__ import annotations

from pathlib import Path

from castling import Agent, Qwen
from castling.scenarios.library_tools import weather
from castling.scenarios.live import ServerLive
from castling.scenarios.session import ScenarioSession
from castling.scenarios.store import load
from castling.testing import ScriptedOllama

HOSTS = ["http://gpu1:11434", "http://gpu2:11434"]
TASK = "Weather in Paris?"


def pool_agent() -> Agent:
    return Agent(Qwen("qwen3:8b", think=False, host=HOSTS), [weather])


def recorded(path: Path) -> ScriptedOllama:
    server = ScriptedOllama("qwen3:8b")
    server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    server.add_reply("It is sunny in Paris.")
    with ScenarioSession(path, "record", live=ServerLive(server.transport), task=TASK) as s:
        s.result = pool_agent().run(s.task)
    return server


def test_a_pool_records_its_model_traffic_and_not_its_routing_probes(tmp_path: Path):
    server = recorded(tmp_path / "pool.yaml")
    assert server.paths.count("/api/ps") == 2  # the live hosts were asked (each once), so routing still works
    scenario = load(tmp_path / "pool.yaml")
    assert [exchange.path for exchange in scenario.server] == ["/api/show"]
    assert len(scenario.model_turns) == 2 and scenario.outcome.final_answer == "It is sunny in Paris."


def test_a_pool_replays_and_its_probes_are_answered_from_the_scenario(tmp_path: Path):
    recorded(tmp_path / "pool.yaml")
    with ScenarioSession(tmp_path / "pool.yaml", "replay") as s:
        agent = pool_agent()
        assert agent.run(s.task).answer == "It is sunny in Paris."
        hosts = agent.backbone.server.servers  # type: ignore[attr-defined]
        assert [host.loaded_models() for host in hosts] == [frozenset({"qwen3:8b"})] * 2


async def test_a_pool_replays_async(tmp_path: Path):
    recorded(tmp_path / "pool.yaml")
    with ScenarioSession(tmp_path / "pool.yaml", "replay") as s:
        result = await pool_agent().arun(s.task)
    assert result.answer == "It is sunny in Paris."
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("weather", {"city": "Paris"})]
