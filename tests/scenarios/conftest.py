import shutil
from pathlib import Path

import pytest
from scenario_helpers import LIBRARY

pytest_plugins = ["pytester"]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A private copy of the scenario library (tests may edit it)."""
    target = tmp_path / "scenarios"
    shutil.copytree(LIBRARY, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target
