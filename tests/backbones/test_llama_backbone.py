"""The Llama backbone under the tools strategy: native calls (a real llama3.1 recording) and text calls.

Only `test_recorded_llama31_native_tool_call_round_trip` replays recorded traffic (dotnet/extensions, MIT); the
other replies are constructed in Ollama's wire shape with ScriptedOllama.
"""

import json
from pathlib import Path

from langchain_core.tools import StructuredTool

from castling import Agent, Llama, tool
from castling.testing import ScriptedOllama

FIXTURES = Path("/work/shared/fixtures")


@tool
def weather(city: str, days: int = 1) -> str:
    """Weather forecast for a city."""
    return f"{city}: sunny for {days} day(s)"


def run_python_tool(seen):
    def run_python(code: str) -> str:
        """Run Python code and return its output."""
        seen.append(code)
        return "1024"

    return StructuredTool.from_function(run_python)


def llama_tools_agent(server, tools):
    return Agent(Llama(server.model, transport=server.transport), tools=tools, strategy="tools")


def exchange(name):
    data = json.loads((FIXTURES / "11_dotnet_extensions_llama3.1_apichat_exchanges.json").read_text())
    return next(e for e in data["exchanges"] if e["name"] == name)


def test_recorded_llama31_native_tool_call_round_trip():
    call, answer = exchange("FunctionCallContent_NonStreaming"), exchange("FunctionResultContent_NonStreaming")
    server = ScriptedOllama("llama3.1", capabilities=("completion", "tools"))
    server.add_lines([call["response"]])
    server.add_lines([answer["response"]])

    def GetPersonAge(personName: str) -> int:  # the recorded tool's own names
        """Gets the age of the specified person."""
        return {"Alice": 42}[personName]

    result = llama_tools_agent(server, [StructuredTool.from_function(GetPersonAge)]).run("How old is Alice?")
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [
        ("GetPersonAge", {"personName": "Alice"}, "42")
    ]
    assert result.answer == "Alice is 42 years old."
    assert server.requests[1]["messages"][-1] == {"role": "tool", "content": "42", "tool_name": "GetPersonAge"}


def test_pythonic_calls_in_text_are_recovered_coerced_and_run():
    server = ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    server.add_reply("[weather(city='Paris', days='3'), weather(city=\"Lyon\")]<|eot_id|>")
    server.add_reply("Both are sunny.")
    events = list(llama_tools_agent(server, [weather]).stream("Weather in Paris for 3 days, and Lyon?"))
    result = events[-1].result
    assert [(c.arguments, c.result) for c in result.tool_calls] == [
        ({"city": "Paris", "days": 3}, "Paris: sunny for 3 day(s)"),
        ({"city": "Lyon"}, "Lyon: sunny for 1 day(s)"),
    ]
    assert all(e.recovered for e in events if e.kind == "tool_call")
    assert result.answer == "Both are sunny."


def test_python_tag_code_runs_in_the_python_tool():
    seen: list[str] = []
    server = ScriptedOllama("llama3.1:8b", capabilities=("completion", "tools"))
    server.add_reply("<|python_tag|>print(2 ** 10)<|eom_id|>")
    server.add_reply("2**10 is 1024.")
    result = llama_tools_agent(server, [weather, run_python_tool(seen)]).run("What is 2**10?")
    assert seen == ["print(2 ** 10)"] and result.tool_calls[0].name == "run_python"
    assert result.answer == "2**10 is 1024."


def test_empty_list_after_a_tool_result_gets_a_final_answer_without_looping():
    """`[]` after a tool result, as in llama-stack's real llama3.2 recording ae6835cfe70e (shape reproduced)."""
    server = ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    server.add_reply('{"name": "weather", "parameters": {"city": "Paris"}}')
    server.add_reply("[]")
    server.add_reply("It is sunny in Paris.")
    result = llama_tools_agent(server, [weather]).run("Weather in Paris?")
    assert result.answer == "It is sunny in Paris."
    assert len(server.requests) == 3 and server.pending == 0
    assert "Answer my question now" in server.requests[2]["messages"][-1]["content"]


def test_a_second_empty_reply_ends_the_run_instead_of_looping():
    server = ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    server.add_reply('{"name": "weather", "parameters": {"city": "Paris"}}')
    server.add_reply("[]")
    server.add_reply("[]")
    result = llama_tools_agent(server, [weather]).run("Weather in Paris?")
    assert len(server.requests) == 3 and result.answer == ""


def test_tools_strategy_sends_tools_and_no_format():
    server = ScriptedOllama("llama3.1:8b", capabilities=("completion", "tools"))
    server.add_reply("Hello!")
    llama_tools_agent(server, [weather]).run("hi")
    assert server.requests[0]["tools"][0]["function"]["name"] == "weather"
    assert "format" not in server.requests[0] and "think" not in server.requests[0]
