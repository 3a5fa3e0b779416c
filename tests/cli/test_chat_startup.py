"""Start-up: model choice and the one-line errors (server down, no models, unknown model, no tool support)."""

import httpx

from castling import tool
from castling.cli.models import choose_model, rank
from castling.testing import ScriptedOllama
from tests.cli.chatdriver import Chat


async def test_unreachable_server_is_one_line_with_what_to_do():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    server = ScriptedOllama()
    server.transport = httpx.MockTransport(refuse)
    chat = Chat(server)
    assert await chat.run() == 1
    assert chat.text.startswith("error: Ollama is not reachable at http://")
    assert "ollama serve" in chat.text and chat.text.count("\n") == 1
    assert "OLLAMA_HOST / --host" in chat.text and "host=" not in chat.text  # the chat's flag, not the API's


async def test_no_models_installed_says_which_to_pull():
    chat = Chat(ScriptedOllama(installed=[]))
    assert await chat.run() == 1
    assert "error: No models are installed" in chat.text and "ollama pull qwen3:8b" in chat.text


async def test_unknown_model_names_the_pull_command():
    chat = Chat(ScriptedOllama(), model="mistral:7b")
    assert await chat.run() == 1
    assert "error: Model 'mistral:7b' is not installed" in chat.text and "ollama pull mistral:7b" in chat.text


async def test_model_without_tools_is_warned_and_offered_the_plan_strategy():
    @tool
    def echo(text: str) -> str:
        """Echo."""
        return text

    server = ScriptedOllama("gemma3:4b", capabilities=("completion",))
    chat = Chat(server, tools="echo")
    chat.extra_tools = {"echo": lambda: echo}
    await chat.run("hi\r", "/exit\r")
    assert "warning: gemma3:4b does not support tools: use /strategy plan" in chat.text
    assert "error: gemma3:4b does not support tools: switch to the plan strategy (/strategy plan)" in chat.text
    assert server.requests == []


async def test_default_model_is_the_best_tool_capable_qwen():
    server = ScriptedOllama("qwen3:14b", installed=["llama3.1:8b", "qwen2.5:7b", "qwen3:8b", "qwen3:14b", "phi4"])
    server.add_reply("Hi.")
    chat = Chat(server)
    await chat.run("hi\r", "/exit\r")
    assert server.requests[0]["model"] == "qwen3:14b"
    assert "castling chat · qwen3:14b" in chat.text


async def test_a_family_without_backbone_falls_back_to_the_qwen_class_and_says_so():
    server = ScriptedOllama("mistral:7b")
    server.add_reply("Hi.")
    chat = Chat(server)
    await chat.run("hi\r", "/exit\r")
    assert server.requests[0]["model"] == "mistral:7b"
    assert "warning: no backbone is registered for 'mistral:7b' yet" in chat.text


async def test_choose_model_skips_models_without_tools_and_prefers_qwen_then_llama():
    async def tools_ok(name):
        return name != "qwen3:32b"

    assert await choose_model(["llama3.1:8b", "qwen3:32b", "qwen3:8b"], tools_ok) == "qwen3:8b"
    assert await choose_model(["mistral", "llama3.1:8b", "llama3.2:3b"], tools_ok) == "llama3.2:3b"
    assert await choose_model([], tools_ok) is None

    async def none_ok(name):
        return False

    assert await choose_model(["phi4", "gemma3:4b"], none_ok) in ("phi4", "gemma3:4b")
    assert rank("qwen3:8b") < rank("qwen2.5:14b") < rank("llama3.3:70b")


async def test_a_default_tool_that_cannot_start_is_left_out_with_a_warning(monkeypatch, server):
    import castling.cli.chat as chat_module
    import castling.tools
    from castling.errors import ConfigError

    def broken_python():
        raise ConfigError("bubblewrap is missing: apt-get install bubblewrap")

    monkeypatch.setattr(castling.tools, "python", broken_python, raising=False)
    monkeypatch.setattr(chat_module, "_installed", lambda name: name == "run_python")
    server.add_reply("Hi.")
    chat = Chat(server, tools=None)
    await chat.run("hi\r", "/exit\r")
    assert "warning: the run_python tool is off: bubblewrap is missing: apt-get install bubblewrap" in chat.text
    assert "tools: none" in chat.text and not server.requests[0].get("tools")


async def test_an_asked_for_tool_that_cannot_start_is_one_error_line(monkeypatch, server):
    import castling.tools
    from castling.errors import ConfigError

    def broken_python():
        raise ConfigError("bubblewrap is missing: apt-get install bubblewrap")

    monkeypatch.setattr(castling.tools, "python", broken_python, raising=False)
    chat = Chat(server, tools="python")
    assert await chat.run() == 1
    assert "error: bubblewrap is missing: apt-get install bubblewrap" in chat.text
