"""Shared helpers of the scenario tests."""

from pathlib import Path

from castling.scenarios.format import AgentConfig, Expectation, Recording, Scenario
from castling.scenarios.live import ServerLive
from castling.scenarios.runner import record
from castling.testing import ScriptedOllama

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"


def weather_server(city: str = "Paris", answer: str = "It is 18 °C and sunny in Paris.") -> ScriptedOllama:
    server = ScriptedOllama("qwen3:8b")
    server.add_reply(tool_calls=[("weather", {"city": city})])
    server.add_reply(answer)
    return server


def weather_scenario(**agent: object) -> Scenario:
    return Scenario(
        id="weather",
        task="What's the weather in Paris?",
        agent=AgentConfig(model="qwen3:8b", tools=["weather"], think=False, **agent),  # type: ignore[arg-type]
        recording=Recording(source="constructed"),
        expectations=[Expectation.model_validate({"final_answer": {"contains": "18 °C"}})],
    )


def recorded_weather(path: Path, **agent: object) -> Path:
    report = record(weather_scenario(**agent), path, ServerLive(weather_server().transport))
    assert report.saved, report.message()
    return path
