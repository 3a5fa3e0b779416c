from __future__ import annotations

import sys
from pathlib import Path

import pytest

COUNTER_SERVER = [sys.executable, str(Path(__file__).with_name("counter_server.py"))]


@pytest.fixture
def counter_command() -> list[str]:
    """The SDK-written test server (stateful, slow, crashing), started over stdio."""
    return list(COUNTER_SERVER)


def pid_alive(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
