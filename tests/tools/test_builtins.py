"""The one table of built-in tools: the chat and the scenarios both build from `castling.tools.BUILTIN_TOOLS`."""

import pytest

from castling.cli.agent_setup import AgentFactory
from castling.scenarios.library_tools import make_tool
from castling.testing import ScriptedOllama
from castling.tools import BUILTIN_TOOLS, BuiltinTool, tool


@tool
def shout(text: str) -> str:
    """Say it louder.

    Args:
        text: what to say.
    """
    return text.upper()


def shout_factory():
    return shout


@pytest.fixture
def with_shout(monkeypatch):
    monkeypatch.setitem(BUILTIN_TOOLS, "shout", BuiltinTool("tests.tools.test_builtins:shout_factory", "loud"))


def test_a_tool_added_to_the_table_is_offered_and_built_by_the_chat(with_shout):
    factory = AgentFactory.create("http://127.0.0.1:1", None, transport=ScriptedOllama("qwen3:8b").transport)
    assert "shout" in factory.available_tools()
    assert factory.tool("shout").invoke({"text": "hi"}) == "HI"


def test_a_tool_added_to_the_table_is_built_by_scenario_files_under_its_scenario_name(with_shout):
    assert make_tool("loud").invoke({"text": "hi"}) == "HI"
