import json
from pathlib import Path

import pytest

from castling.errors import ScenarioFileError
from castling.scenarios.format import json_schema_text
from castling.scenarios.live import ServerLive
from castling.scenarios.runner import record, run_file
from castling.scenarios.store import load, save
from tests.scenarios.scenario_helpers import LIBRARY, weather_scenario, weather_server


def test_published_schema_is_current():
    assert (LIBRARY / "scenario.schema.json").read_text() == json_schema_text()
    schema = json.loads(json_schema_text())
    assert "schema_version" in schema["properties"] and "expectations" in schema["properties"]


def test_save_and_load_round_trip(tmp_path: Path):
    scenario = weather_scenario()
    save(scenario, tmp_path / "s.yaml")
    assert load(tmp_path / "s.yaml") == scenario


def test_broken_yaml_names_file_and_line(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("schema_version: 1\nid: x\ntask: [unclosed\nrecording: {source: live}\n")
    with pytest.raises(ScenarioFileError) as info:
        load(path)
    assert str(path) in str(info.value) and "invalid YAML" in str(info.value)
    assert info.value.line in (3, 4, 5)


def test_invalid_field_points_at_its_line(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("schema_version: 1\nid: x\ntask: t\nrecording:\n  source: imagined\n")
    with pytest.raises(ScenarioFileError) as info:
        load(path)
    assert f"{path}:5:" in str(info.value)
    assert "recording.source" in str(info.value)


def test_unknown_expectation_key_is_rejected_with_line(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "schema_version: 1\nid: x\ntask: t\nrecording: {source: live}\nexpectations:\n"
        "  - no_error: true\n  - answer_has: Paris\n"
    )
    with pytest.raises(ScenarioFileError, match=rf"{path}:7: invalid scenario at expectations.1"):
        load(path)


def test_invalid_file_is_not_overwritten_by_record(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    text = "schema_version: 1\nid: x\ntask: t\nrecording: {source: nope}\n"
    path.write_text(text)
    with pytest.raises(ScenarioFileError):
        run_file(path, "record", live=ServerLive(weather_server().transport))
    assert path.read_text() == text


def test_missing_file_says_it_does_not_exist(tmp_path: Path):
    with pytest.raises(ScenarioFileError, match="does not exist"):
        load(tmp_path / "nope.yaml")


def test_crash_while_saving_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "s.yaml"
    path.write_text("old contents\n")

    def explode(*args: object, **kwargs: object) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr("castling.scenarios.layout.dump", explode)
    with pytest.raises(RuntimeError):
        record(weather_scenario(), path, ServerLive(weather_server().transport))
    assert path.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]
