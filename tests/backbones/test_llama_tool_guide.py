"""The Llama tools loop keeps the tools in view after a tool result (ollama#6477), checked on the wire.

`render_llama3` re-creates what Ollama's llama3.x template (tools/testdata/llama3.2.gotmpl) does with a chat
request: the system message always, the tool list only inside the last user message. The replies are
constructed in Ollama's wire shape with ScriptedOllama.
"""

import json

from castling import Agent, Llama, Qwen, tool
from castling.testing import ScriptedOllama


@tool
def weather(city: str) -> str:
    """Weather forecast for a city."""
    return f"{city}: sunny"


@tool
def packing(forecast: str) -> str:
    """What to pack for a forecast."""
    return "sunglasses" if "sunny" in forecast else "umbrella"


def render_llama3(request):
    """The prompt text the llama3.x template builds: tools only when the last message is a user message."""
    parts = [m["content"] for m in request["messages"] if m["role"] == "system"]
    chat = [m for m in request["messages"] if m["role"] != "system"]
    for index, message in enumerate(chat):
        last = index == len(chat) - 1
        if message["role"] == "user" and last and request.get("tools"):
            parts.extend(json.dumps(t) for t in request["tools"])
        if message.get("tool_calls"):
            parts.extend(json.dumps(c["function"]) for c in message["tool_calls"])
        parts.append(message.get("content", ""))
    return "\n".join(parts)


def chain(server):
    server.add_reply("", tool_calls=[("weather", {"city": "Nice"})])
    server.add_reply("", tool_calls=[("packing", {"forecast": "Nice: sunny"})])
    server.add_reply("Pack sunglasses.")


def test_second_request_of_a_chain_still_shows_the_tools_to_llama():
    server = ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    chain(server)
    agent = Agent(Llama(server.model, transport=server.transport), tools=[weather, packing], strategy="tools")

    result = agent.run("What should I pack for Nice?")

    assert [c.name for c in result.tool_calls] == ["weather", "packing"]
    assert result.answer == "Pack sunglasses."
    second, third = server.requests[1], server.requests[2]
    assert second["messages"][-1]["role"] == "tool"  # the template leaves the tool list out of this turn...
    for request in (second, third):
        prompt = render_llama3(request)
        # ...but the system prompt, rendered on every turn, still lists both tools and the call format.
        assert "Weather forecast for a city." in prompt and "What to pack for a forecast." in prompt
        assert '{"name": "<tool name>", "parameters":' in prompt
        assert [t["function"]["name"] for t in request["tools"]] == ["weather", "packing"]  # Ollama still parses


def test_tool_guide_is_the_same_on_every_turn_and_after_the_users_own_system_prompt():
    server = ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    chain(server)
    agent = Agent(
        Llama(server.model, transport=server.transport), tools=[weather, packing], strategy="tools", system="Be brief."
    )
    agent.run("What should I pack for Nice?")

    systems = [r["messages"][0] for r in server.requests]
    assert all(s == systems[0] for s in systems)  # a stable prefix: Ollama can reuse its KV cache
    assert systems[0]["role"] == "system" and systems[0]["content"].startswith("Be brief.\n\n")
    assert "only when the request needs it" in systems[0]["content"]  # against over-eager calls (ollama#6127)


def test_a_greeting_gets_a_plain_answer_and_no_tool_runs():
    server = ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    server.add_reply("Hello! How can I help?")
    agent = Agent(Llama(server.model, transport=server.transport), tools=[weather], strategy="tools")

    result = agent.run("hi")

    assert result.answer == "Hello! How can I help?" and result.tool_calls == []
    assert "greetings" in server.requests[0]["messages"][0]["content"]


def test_qwen_and_toolless_llama_get_no_tool_guide():
    server = ScriptedOllama("qwen3:8b", capabilities=("completion", "tools"))
    server.add_reply("", tool_calls=[("weather", {"city": "Nice"})])
    server.add_reply("Sunny.")
    Agent(Qwen(server.model, transport=server.transport), tools=[weather]).run("Nice?")
    assert all(m["role"] != "system" for r in server.requests for m in r["messages"])

    bare = ScriptedOllama("llama3.2:3b", capabilities=("completion",))
    bare.add_reply("Hello.")
    Agent(Llama(bare.model, transport=bare.transport), tools=[], strategy="tools").run("hi")
    assert all(m["role"] != "system" for m in bare.requests[0]["messages"])
