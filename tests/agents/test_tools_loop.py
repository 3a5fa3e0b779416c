"""The tools strategy end to end on a scripted Ollama (constructed NDJSON in the documented wire shape)."""

from __future__ import annotations

import asyncio

import pytest

from castling import Agent, ConfigError, Qwen, StepLimitExceeded, tool
from castling.testing import ScriptedOllama
from tests.conftest import weather


def test_parallel_calls_then_answer(make_agent, server):
    server.add_reply(tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})])
    server.add_reply("Paris is sunny, Lyon is rainy.")
    result = make_agent().run("Weather in Paris and in Lyon?")
    assert result.answer == "Paris is sunny, Lyon is rainy."
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [
        ("weather", {"city": "Paris"}, "sunny, 21 C"),
        ("weather", {"city": "Lyon"}, "rain, 15 C"),
    ]
    assert [m.type for m in result.messages] == ["human", "ai", "tool", "tool", "ai"]
    assert result.usage.calls == 2
    assert result.usage.prompt_tokens == 40


def test_second_request_carries_results_by_tool_name_in_call_order(make_agent, server):
    server.add_reply(tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})])
    server.add_reply("done")
    make_agent(system="Be brief.").run("Weather?")
    second = server.requests[1]
    assert second["messages"][0] == {"role": "system", "content": "Be brief."}
    assert second["messages"][-2:] == [
        {"role": "tool", "content": "sunny, 21 C", "tool_name": "weather"},
        {"role": "tool", "content": "rain, 15 C", "tool_name": "weather"},
    ]
    assert second["tools"][0]["function"]["name"] == "weather"
    assert second["tools"][0]["function"]["parameters"]["required"] == ["city"]


def test_num_ctx_from_profile_capped_by_model_and_overridable():
    server = ScriptedOllama("qwen3:0.6b", context_length=8192)
    server.add_reply("a")
    server.add_reply("b")
    Agent(Qwen("qwen3:0.6b", transport=server.transport)).run("x")
    Agent(Qwen("qwen3:0.6b", transport=server.transport, num_ctx=4096, options={"temperature": 0})).run("x")
    assert server.requests[0]["options"]["num_ctx"] == 8192  # profile asks 32768, the model has 8192
    assert server.requests[1]["options"] == {"num_ctx": 4096, "temperature": 0}


def test_think_is_sent_explicitly_and_thinking_kept_apart(make_agent, server):
    server.add_reply("Lyon.", thinking="Compare the two cities.")
    result = make_agent(backbone_kwargs={"think": True}).run("Which city?")
    assert server.requests[0]["think"] is True
    assert result.answer == "Lyon."
    assert result.thinking == "Compare the two cities."


def test_call_left_in_content_is_recovered_and_run(make_agent, server):
    server.add_reply('<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n</tool_call>')
    server.add_reply("Sunny.")
    result = make_agent().run("Weather in Paris?")
    assert [(c.name, c.result) for c in result.tool_calls] == [("weather", "sunny, 21 C")]
    assert result.answer == "Sunny."


def test_xml_call_values_are_coerced_to_the_schema(make_agent, server):
    @tool
    def forecast(city: str, days: int, metric: bool) -> str:
        """Forecast."""
        return f"{city}:{days}:{metric}"

    server.add_reply(
        "<tool_call>\n<function=forecast>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3\n"
        "</parameter>\n<parameter=metric>\ntrue\n</parameter>\n</function>\n</tool_call>"
    )
    server.add_reply("ok")
    result = make_agent(tools=[forecast]).run("forecast")
    assert result.tool_calls[0].arguments == {"city": "Paris", "days": 3, "metric": True}
    assert result.tool_calls[0].result == "Paris:3:True"


def test_unknown_tool_goes_back_to_the_model_naming_the_tools(make_agent, server):
    server.add_reply(tool_calls=[("get_weather", {"city": "Paris"})])
    server.add_reply("Sorry.")
    result = make_agent().run("Weather?")
    record = result.tool_calls[0]
    assert record.error is not None
    assert "no tool named 'get_weather'" in record.result
    assert "Available tools: weather" in record.result
    assert server.requests[1]["messages"][-1]["content"] == record.result


def test_invalid_arguments_go_back_with_the_validation_error(make_agent, server):
    server.add_reply(tool_calls=[("weather", {"town": "Paris"})])
    server.add_reply("Retrying is not possible.")
    result = make_agent().run("Weather?")
    assert "invalid arguments for weather" in result.tool_calls[0].result
    assert "city: Field required" in result.tool_calls[0].result


def test_tool_exception_becomes_an_error_result(make_agent, server):
    @tool
    def divide(a: float, b: float) -> float:
        """Divide a by b."""
        return a / b

    server.add_reply(tool_calls=[("divide", {"a": 1, "b": 0})])
    server.add_reply("Cannot divide by zero.")
    result = make_agent(tools=[divide]).run("1/0")
    assert result.tool_calls[0].error == "ZeroDivisionError: float division by zero"
    assert result.answer == "Cannot divide by zero."


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_tool_timeout_becomes_an_error_result(make_agent, server, mode):
    release = asyncio.Event()

    @tool(timeout=0.05)
    async def slow() -> str:
        """Never finishes in time."""
        await release.wait()
        return "late"

    server.add_reply(tool_calls=[("slow", {})])
    server.add_reply("It timed out.")
    agent = make_agent(tools=[slow])
    result = agent.run("go") if mode == "sync" else await agent.arun("go")
    assert "did not finish within 0.05 s" in result.tool_calls[0].result
    assert result.answer == "It timed out."


async def test_async_parallel_calls_run_concurrently(make_agent, server):
    started: list[str] = []
    both_started = asyncio.Event()

    @tool
    async def lookup(key: str) -> str:
        """Waits until both lookups have started: only concurrent calls can finish."""
        started.append(key)
        if len(started) == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), timeout=5)
        return key.upper()

    server.add_reply(tool_calls=[("lookup", {"key": "a"}), ("lookup", {"key": "b"})])
    server.add_reply("AB")
    result = await make_agent(tools=[lookup]).arun("look up a and b")
    assert [c.result for c in result.tool_calls] == ["A", "B"]


def test_plain_functions_sync_and_async_are_tools(make_agent, server):
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    async def shout(text: str) -> str:
        """Upper-case text."""
        return text.upper()

    server.add_reply(tool_calls=[("add", {"a": "2", "b": 3}), ("shout", {"text": "hi"})])
    server.add_reply("5 HI")
    result = make_agent(tools=[add, shout]).run("go")
    assert [c.result for c in result.tool_calls] == ["5", "HI"]


def test_two_turn_conversation_through_the_checkpointer(make_agent, server):
    agent = make_agent()
    server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    server.add_reply("Sunny in Paris.")
    agent.run("Weather in Paris?", thread_id="t1")
    server.add_reply("Tomorrow too.")
    second = agent.run("and tomorrow?", thread_id="t1")
    assert second.answer == "Tomorrow too."
    sent = [(m["role"], m.get("content")) for m in server.requests[-1]["messages"]]
    assert sent == [
        ("user", "Weather in Paris?"),
        ("assistant", None),  # the ollama client drops an empty content next to tool_calls
        ("tool", "sunny, 21 C"),
        ("assistant", "Sunny in Paris."),
        ("user", "and tomorrow?"),
    ]
    assert second.tool_calls == []  # calls of this run only
    assert len(second.messages) == 6


def test_threads_are_separate(make_agent, server):
    agent = make_agent()
    server.add_reply("one")
    server.add_reply("two")
    agent.run("first", thread_id="a")
    agent.run("second", thread_id="b")
    assert [m["content"] for m in server.requests[1]["messages"]] == ["second"]


def test_step_limit_gives_an_answer_that_says_so(make_agent, server):
    for _ in range(2):
        server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    result = make_agent(max_steps=2).run("loop forever")
    assert result.stop_reason == "max_steps"
    assert "max_steps=2" in result.answer
    assert server.pending == 0


def test_step_limit_can_raise(make_agent, server):
    server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    with pytest.raises(StepLimitExceeded, match="max_steps=1"):
        make_agent(max_steps=1, on_max_steps="error").run("loop")


def test_unreadable_call_is_sent_back_for_repair(make_agent, server):
    server.add_reply('<tool_call>{"name": "weather", "arguments": {"city": </tool_call>')
    server.add_reply(tool_calls=[("weather", {"city": "Lyon"})])
    server.add_reply("Rainy.")
    result = make_agent().run("Weather in Lyon?")
    assert result.answer == "Rainy."
    repair_note = server.requests[1]["messages"][-1]
    assert repair_note["role"] == "user"
    assert "could not be read" in repair_note["content"]


def test_backbone_from_model_name(server):
    agent = Agent("qwen3:8b", host="http://example.invalid:1")
    assert isinstance(agent.backbone, Qwen)
    assert agent.strategy == "tools"
    with pytest.raises(ConfigError, match="Cannot tell the backbone"):
        Agent("mistral:7b")


def test_duplicate_tool_names_are_refused():
    with pytest.raises(ConfigError, match="unique"):
        Agent(Qwen("qwen3:8b"), tools=[weather, weather])


def test_graph_is_a_compiled_langgraph_graph(make_agent, server):
    graph = make_agent().graph
    drawn = graph.get_graph()
    assert set(drawn.nodes) >= {"model", "tools"}
    edges = {(edge.source, edge.target) for edge in drawn.edges}
    assert edges >= {
        ("model", "tools"),
        ("model", "repair"),
        ("model", "__end__"),
        ("tools", "model"),
        ("tools", "limit"),
    }
    server.add_reply("direct")
    state = graph.invoke({"messages": [("user", "hi")], "steps": 0})
    assert state["messages"][-1].content == "direct"


def test_sync_tool_with_its_own_timeout_is_abandoned_in_sync_runs(make_agent, server):
    import threading

    gate = threading.Event()

    @tool(timeout=0.05)
    def stuck() -> str:
        """Blocks until released."""
        gate.wait(5)
        return "late"

    server.add_reply(tool_calls=[("stuck", {})])
    server.add_reply("gave up")
    try:
        result = make_agent(tools=[stuck]).run("go")
    finally:
        gate.set()
    assert "did not finish within 0.05 s" in result.tool_calls[0].result


@pytest.mark.parametrize("mid_stream", [True, False])
def test_malformed_call_rejected_by_ollamas_parser_is_sent_back_for_repair(make_agent, server, mid_stream):
    """Ollama's qwen3 parser turns bad JSON in <tool_call> into an error (model/parsers/qwen3.go)."""
    message = "failed to parse JSON: unexpected end of JSON input"
    if mid_stream:
        server.add_lines([{"message": {"role": "assistant", "content": ""}, "done": False}, {"error": message}])
    else:
        server.add_error(500, message)
    server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    server.add_reply("Sunny.")
    result = make_agent().run("Weather in Paris?")
    assert result.answer == "Sunny."
    assert "failed to parse JSON" in server.requests[1]["messages"][-1]["content"]


def test_other_stream_errors_still_raise(make_agent, server):
    from castling import ModelStreamError

    server.add_lines([{"error": "model runner has unexpectedly stopped"}])
    with pytest.raises(ModelStreamError, match="unexpectedly stopped"):
        make_agent().run("x")


def test_a_message_replaced_in_the_state_is_sent_as_it_is_now(make_agent, server):
    from langchain_core.messages import AIMessage

    agent = make_agent()
    server.add_reply("first draft")
    result = agent.run("write", thread_id="t")
    answer = result.messages[-1]
    config = {"configurable": {"thread_id": "t"}}
    agent.graph.update_state(config, {"messages": [AIMessage("edited answer", id=answer.id)]})
    server.add_reply("ok")
    agent.run("next", thread_id="t")
    assert [m.get("content") for m in server.requests[-1]["messages"]] == ["write", "edited answer", "next"]


def test_think_off_is_sent_and_no_thinking_is_kept(make_agent, server):
    server.add_reply("Rome.")
    result = make_agent(backbone_kwargs={"think": False}).run("Capital of Italy?")
    assert server.requests[0]["think"] is False
    assert result.thinking == ""


def test_thinking_model_thinks_by_default_and_others_get_no_think_field():
    thinking = ScriptedOllama("qwen3:8b", capabilities=["completion", "tools", "thinking"])
    plain = ScriptedOllama("qwen2.5:7b", capabilities=["completion", "tools"])
    for server, model in ((thinking, "qwen3:8b"), (plain, "qwen2.5:7b")):
        server.add_reply("ok")
        Agent(Qwen(model, transport=server.transport)).run("hi")
    assert thinking.requests[0]["think"] is True
    assert "think" not in plain.requests[0]
