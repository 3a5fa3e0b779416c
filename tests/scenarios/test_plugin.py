import shutil
from pathlib import Path

import pytest
import yaml

from tests.scenarios.scenario_helpers import LIBRARY


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    target = pytester.path / "scenarios"
    for name in ("qwen/weather-single.yaml", "qwen/web-title.yaml", "llama/no-tool.yaml", "qwen/code-exec.yaml"):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(LIBRARY / name, target / name)
    return pytester


def test_scenario_files_are_test_items(project: pytest.Pytester):
    result = project.runpytest("scenarios", "-v", "-rs")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*weather-single PASSED*"])
    result.stdout.fnmatch_lines(["*code-exec PASSED*"])
    result.stdout.fnmatch_lines(["*scenario results (mode=replay)*", "*qwen-weather-single*qwen3:8b*"])


def test_keyword_selects_scenarios(project: pytest.Pytester):
    result = project.runpytest("scenarios", "-k", "title")
    result.assert_outcomes(passed=1)


def test_divergence_fails_with_its_message(project: pytest.Pytester):
    path = project.path / "scenarios" / "qwen" / "weather-single.yaml"
    data = yaml.safe_load(path.read_text())
    data["agent"]["system"] = "You are a weather bot."
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    result = project.runpytest("scenarios")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*diverged at model turn 0 of 2*", "*Likely cause: a system prompt was added*"])

    updated = project.runpytest("scenarios", "--scenario-mode=update")
    updated.assert_outcomes(passed=4)
    again = project.runpytest("scenarios")
    again.assert_outcomes(passed=4)
    assert yaml.safe_load(path.read_text())["model_turns"][0]["request"]["body"]["messages"][0]["role"] == "system"


def test_corrupt_file_fails_cleanly_and_is_kept(project: pytest.Pytester):
    path = project.path / "scenarios" / "broken.yaml"
    path.write_text("schema_version: 1\nid: b\ntask: x\nrecording:\n  source: live\nagent:\n  max_steps: many\n")
    before = path.read_text()
    result = project.runpytest("scenarios", "--scenario-mode=update")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines([f"*{path}:7: invalid scenario at agent.max_steps*"])
    assert path.read_text() == before


def test_scenario_fixture_replays_user_agent_code(project: pytest.Pytester):
    project.makepyfile(
        test_mine=f"""
        from castling import Agent, Qwen
        from castling.scenarios.library_tools import weather

        def test_my_agent(scenario):
            with scenario({str(project.path / "scenarios/qwen/weather-single.yaml")!r}) as s:
                result = Agent(Qwen("qwen3:8b"), [weather], strategy="tools", max_steps=6).run(s.task)
            assert "18 °C" in result.answer

        def test_wrong_agent_diverges(scenario):
            with scenario({str(project.path / "scenarios/qwen/weather-single.yaml")!r}) as s:
                Agent(Qwen("qwen3:8b"), [weather], system="Changed.", max_steps=6).run(s.task)
        """
    )
    result = project.runpytest("test_mine.py")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*ModelTurnDiverged*", "*Likely cause: a system prompt was added or removed.*"])


def test_live_mode_against_castling_serve(project: pytest.Pytester):
    from castling.scenarios.serve import ReplayServer

    path = project.path / "scenarios" / "llama" / "no-tool.yaml"
    server = ReplayServer(path, port=0).start()
    try:
        result = project.runpytest(str(path), "--scenario-mode=live", f"--ollama-host={server.url}")
    finally:
        server.stop()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*scenario results (mode=live)*"])
    assert Path(path).read_text() == (LIBRARY / "llama" / "no-tool.yaml").read_text()


def test_other_yaml_under_scenarios_is_not_collected(project: pytest.Pytester):
    (project.path / "scenarios" / "compose.yaml").write_text("services:\n  web: {image: nginx}\n")
    result = project.runpytest("scenarios", "--collect-only", "-q")
    assert "compose" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*4 tests collected*"])


def test_a_file_named_on_the_command_line_is_collected_outside_a_scenarios_folder(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    saved = pytester.path / "saved"
    saved.mkdir()
    shutil.copy(LIBRARY / "qwen" / "weather-single.yaml", saved / "x.yaml")
    result = pytester.runpytest("saved/x.yaml")
    result.assert_outcomes(passed=1)
    assert pytester.runpytest("saved").ret == pytest.ExitCode.NO_TESTS_COLLECTED  # a folder: only under scenarios/


def readme_fixture_example(readme: Path) -> str:
    """The README's `scenario` fixture example, as written."""
    blocks = readme.read_text().split("```python\n")[1:]
    return next(block.split("```")[0] for block in blocks if "def test_my_agent(scenario)" in block)


@pytest.mark.parametrize("readme", ["README.md", "src/castling/scenarios/README.md"])
def test_the_readme_fixture_example_passes_as_written(pytester: pytest.Pytester, readme: str):
    root = Path(__file__).parents[2]
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (pytester.path / "scenarios" / "qwen").mkdir(parents=True)
    shutil.copy(LIBRARY / "qwen" / "web-fetch.yaml", pytester.path / "scenarios" / "qwen" / "web-fetch.yaml")
    pytester.makepyfile(test_example=readme_fixture_example(root / readme))
    pytester.runpytest("test_example.py").assert_outcomes(passed=1)


def test_scenario_files_run_under_xdist_with_the_results_table_gathered(project: pytest.Pytester):
    # pytest-xdist: items run in two worker processes; their rows reach the controller's results table.
    result = project.runpytest_subprocess("scenarios", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*2 workers*"])
    table = result.stdout.str().split("scenario results (mode=replay)")[1]
    for scenario in ("qwen-weather-single", "qwen-web-title", "llama-no-tool", "qwen-code-exec"):
        assert table.count(scenario) == 1, scenario
