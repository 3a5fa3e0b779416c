"""The v2 file form: every expectation kind, shared tool schemas and the outcome round-trip through a file."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from castling.errors import ScenarioFileError
from castling.scenarios.format import Expectation, Outcome, json_schema
from castling.scenarios.store import discover, load, save
from tests.scenarios.scenario_helpers import LIBRARY, recorded_weather

V1 = Path(__file__).parent / "fixtures" / "v1"
EXPECTATIONS = [
    ({"final_answer": {"contains": "18 °C"}}, {"answer_contains": "18 °C"}),
    ({"final_answer": {"icontains": ["paris", "sunny"]}}, {"answer_icontains": ["paris", "sunny"]}),
    ({"final_answer": {"not_contains": "rain"}}, {"answer_not_contains": "rain"}),
    (
        {"final_answer": {"equals": "It is 18 °C and sunny in Paris."}},
        {"answer_equals": "It is 18 °C and sunny in Paris."},
    ),
    (
        {"final_answer": {"regex": r"\d+ °C", "contains": "Paris"}},
        {"answer_contains": "Paris", "answer_regex": r"\d+ °C"},
    ),
    ({"tool_called": {"name": "weather"}}, {"tool_called": "weather"}),
    (
        {"tool_called": {"name": "weather", "args": {"city": "Paris"}, "match": "exact", "min": 1, "max": 2}},
        {"tool_called": {"name": "weather", "args": {"city": "Paris"}, "match": "exact", "max": 2}},
    ),
    ({"tool_not_called": {"name": "fetch"}}, {"tool_not_called": "fetch"}),
    ({"max_steps": 3}, {"max_steps": 3}),
    ({"no_error": True}, {"no_error": True}),
    ({"custom": "polite"}, {"custom": "polite"}),
    (
        {"trajectory": {"calls": [{"name": "weather", "args": {"city": "Paris"}}], "mode": "subset"}},
        {"trajectory": {"calls": [{"name": "weather", "args": {"city": "Paris"}}], "mode": "subset"}},
    ),
]


def _weather(tmp_path: Path) -> Path:
    return recorded_weather(tmp_path / "weather.yaml")


def test_every_expectation_kind_is_one_key_and_reads_back(tmp_path: Path):
    path = _weather(tmp_path)
    scenario = load(path)
    scenario.expectations = [Expectation.model_validate(long) for long, _ in EXPECTATIONS]
    save(scenario, path)
    written = yaml.safe_load(path.read_text())["expectations"]
    assert written == [short for _, short in EXPECTATIONS]
    assert load(path).expectations == scenario.expectations


def test_an_unknown_expectation_key_names_file_and_line(tmp_path: Path):
    path = _weather(tmp_path)
    path.write_text(path.read_text() + "- answer_has: Paris\n")
    with pytest.raises(ScenarioFileError, match=rf"{path}:\d+: invalid scenario at expectations.1"):
        load(path)


def test_a_recording_is_written_as_v2_with_shared_tool_schemas(tmp_path: Path):
    path = _weather(tmp_path)
    data = yaml.safe_load(path.read_text())
    assert data["schema_version"] == 2
    assert [t["function"]["name"] for t in data["tool_schemas"]] == ["weather"]
    assert [turn["request"]["body"]["tools"] for turn in data["model_turns"]] == [["weather"], ["weather"]]
    assert "null" not in path.read_text()


def test_a_tool_definition_that_changes_between_turns_stays_in_each_body(tmp_path: Path):
    path = _weather(tmp_path)
    scenario = load(path)
    scenario.model_turns[1].request.body["tools"][0]["function"]["description"] = "Weather now, for a city."
    save(scenario, path)
    data = yaml.safe_load(path.read_text())
    assert "tool_schemas" not in data
    assert [t["request"]["body"]["tools"][0]["function"]["description"] for t in data["model_turns"]] == [
        "Current weather for a city.",
        "Weather now, for a city.",
    ]
    assert [t.request.body for t in load(path).model_turns] == [t.request.body for t in scenario.model_turns]


def test_a_tool_named_but_not_defined_is_a_clear_error(tmp_path: Path):
    path = _weather(tmp_path)
    text = path.read_text().replace("      tools: [weather]\n", "      tools: [wether]\n", 1)  # turn 0's body
    path.write_text(text)
    with pytest.raises(ScenarioFileError, match="model turn 0 names tool 'wether', which tool_schemas does not"):
        load(path)


def test_an_outcome_that_differs_from_the_replies_is_written_and_kept(tmp_path: Path):
    path = _weather(tmp_path)
    scenario = load(path)
    assert "outcome:" in path.read_text()  # the tool call and its result are not in the replies
    scenario.outcome = Outcome(final_answer="edited by hand", steps=5, model_ms=1.5)
    save(scenario, path)
    written = yaml.safe_load(path.read_text())["outcome"]
    # 0 tokens is the default, but the replies say 40 and 20: written, or the file would read back 40 and 20
    assert written == {
        "final_answer": "edited by hand",
        "steps": 5,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "model_ms": 1.5,
    }
    assert load(path).outcome == scenario.outcome


@pytest.mark.parametrize("path", [*sorted(V1.glob("*.yaml")), *discover([LIBRARY])], ids=lambda p: p.name)
def test_v1_and_v2_files_match_the_published_schema(path: Path):
    schema = json.loads((LIBRARY / "scenario.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))


def test_the_schema_accepts_one_key_expectations_and_refuses_unknown_ones():
    validator = jsonschema.Draft202012Validator(json_schema())
    base = {"schema_version": 2, "id": "x", "task": "t", "recording": {"source": "constructed"}}
    assert validator.is_valid({**base, "expectations": [{"answer_contains": "Rome"}, {"tool_not_called": "weather"}]})
    assert not validator.is_valid({**base, "expectations": [{"answer_has": "Rome"}]})


def test_a_file_whose_tool_names_expand_too_far_is_refused(tmp_path: Path):
    # 2,000 names in a body, each standing for a 1,000-value definition: 2 million values from a ~20 KB file.
    path = _weather(tmp_path)
    data = yaml.safe_load(path.read_text())
    properties = {f"p{i}": {"type": "string"} for i in range(500)}
    data["tool_schemas"][0]["function"]["parameters"]["properties"] = properties
    data["model_turns"][0]["request"]["body"]["tools"] = ["weather"] * 2_000
    path.write_text(yaml.safe_dump(data))
    assert len(path.read_bytes()) < 100_000
    with pytest.raises(ScenarioFileError, match="expand to over 1,000,000 values"):
        load(path)
