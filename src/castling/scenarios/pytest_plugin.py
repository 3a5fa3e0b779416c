"""The pytest plugin: scenario files as test items, `--scenario-mode`, `--repeat`, the `scenario` fixture.

Registered through the `pytest11` entry point, so `pytest scenarios/` works once castling is installed.
Scenario YAML files are collected when they sit under a folder named `scenarios`, or when they are named on the
command line (`pytest saved/x.yaml`), as long as they declare a `schema_version`. A scenario file is data:
the tools and checks it names come from the library, the built-ins, or what conftest.py code and the ini
options `castling_tools` / `castling_checks` registered (see `castling.scenarios.names`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from castling.scenarios.format import MODES, Mode

_ROWS = pytest.StashKey[list[list[str]]]()
ROW_PROPERTY = "castling_scenario_row"
"""The item's row of the results table, carried in `user_properties` so it reaches the pytest-xdist controller."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --scenario-mode, --repeat and --ollama-host."""
    group = parser.getgroup("castling scenarios")
    group.addoption(
        "--scenario-mode",
        choices=MODES,
        default="replay",
        help="replay (default, no Ollama), record, record-missing, update (re-record diverged ones), live",
    )
    group.addoption("--repeat", type=int, default=1, help="live mode: run each scenario N times (pass^k)")
    group.addoption("--ollama-host", default=None, help="the Ollama server for record/update/live (OLLAMA_HOST)")
    parser.addini("castling_tools", "module:attr tools that scenario files may name", type="linelist", default=[])
    parser.addini("castling_checks", "module:attr checks that scenario files may name", type="linelist", default=[])


def pytest_configure(config: pytest.Config) -> None:
    """Start an empty list of result rows; allow the tools and checks the project's configuration names."""
    config.stash[_ROWS] = []
    config.pluginmanager.register(_RowCollector(config.stash[_ROWS]), f"castling-scenario-rows-{id(config)}")
    tools, checks = config.getini("castling_tools"), config.getini("castling_checks")
    if tools or checks:
        from castling.scenarios.names import allow

        for path in tools:
            allow(path, "tool")
        for path in checks:
            allow(path, "check")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect `*.yaml` files declaring a `schema_version`: under `scenarios/`, or named on the command line."""
    named = parent.session.isinitpath(file_path)  # `pytest saved/x.yaml`: the user asked for this very file
    if (
        file_path.suffix in (".yaml", ".yml")
        and (named or "scenarios" in file_path.parts[:-1])
        and "blobs" not in file_path.parts
        and _declares_schema(file_path)
    ):
        collector: pytest.Collector = ScenarioFile.from_parent(parent, path=file_path)
        return collector
    return None


def _declares_schema(path: Path) -> bool:
    # Other YAML that happens to live under a `scenarios` folder (CI configs, compose files) is left alone.
    with path.open("rb") as handle:
        return b"schema_version" in handle.read(4096)


class ScenarioFile(pytest.File):
    """One scenario file: one test item (loading errors are reported by the item, with file and line)."""

    def collect(self) -> Iterator[ScenarioItem]:
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioFailure(Exception):
    """Raised by a scenario item; pytest shows its text as the failure."""


class ScenarioItem(pytest.Item):
    """Runs a scenario file in the session's mode."""

    def runtest(self) -> None:
        from castling.errors import ScenarioFileError
        from castling.scenarios.runner import run_file

        mode: Mode = self.config.getoption("--scenario-mode")
        try:
            report = run_file(self.path, mode, live=_live(self.config, mode), repeat=self.config.getoption("--repeat"))
        except ScenarioFileError as exc:
            raise ScenarioFailure(str(exc)) from None
        from castling.scenarios.report import session_row

        self.user_properties.append((ROW_PROPERTY, session_row(report)))
        if report.status == "skipped":
            pytest.skip(report.note)
        if not report.ok:
            raise ScenarioFailure(report.message())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"


def _live(config: pytest.Config, mode: str) -> Any:
    host = config.getoption("--ollama-host")
    if host is None:
        return None  # the runner picks: constructed traffic re-records from itself, live traffic uses OLLAMA_HOST
    from castling.scenarios.live import OllamaLive

    return OllamaLive(host)


class _RowCollector:
    """Keeps each scenario item's row; under pytest-xdist it runs in the controller, on the workers' reports."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == ROW_PROPERTY and isinstance(value, list | tuple):
                self.rows.append([str(cell) for cell in value])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the scenario results table (with pytest-xdist: the workers' rows, gathered in the controller)."""
    rows = config.stash.get(_ROWS, [])
    if not rows:
        return
    from castling.scenarios.report import session_table_of_rows

    terminalreporter.write_sep("-", f"scenario results (mode={config.getoption('--scenario-mode')})")
    terminalreporter.write_line(session_table_of_rows(rows))


@pytest.fixture
def scenario(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Open a scenario from test code (see `castling.scenarios.session`); use it as a context manager."""
    from castling.scenarios.session import ScenarioSession

    mode: Mode = request.config.getoption("--scenario-mode")
    live = _live(request.config, mode)

    def open_scenario(path: str | Path, *, task: str = "") -> ScenarioSession:
        return ScenarioSession(path, mode, live=live, task=task)

    return open_scenario
