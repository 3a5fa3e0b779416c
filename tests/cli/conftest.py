import pytest

from castling.testing import ScriptedOllama
from tests.cli.chatdriver import Chat


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("CASTLING_DATA_DIR", str(folder))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return folder


@pytest.fixture
def server():
    return ScriptedOllama("qwen3:8b")


@pytest.fixture
def chat(server):
    return Chat(server)
