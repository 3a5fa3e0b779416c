import shutil
from pathlib import Path

import pytest

from tests.scenarios.scenario_helpers import LIBRARY


def pytest_configure(config: pytest.Config) -> None:
    # pytest_plugins is only allowed in the root conftest; the plugin tests here need pytester.
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A private copy of the scenario library (tests may edit it)."""
    target = tmp_path / "scenarios"
    shutil.copytree(LIBRARY, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture(autouse=True)
def _fresh_registrations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tools and checks registered by one test never leak into another."""
    from castling.scenarios import names

    monkeypatch.setattr(names, "_TOOLS", {})
    monkeypatch.setattr(names, "_CHECKS", {})
