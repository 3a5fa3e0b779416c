"""`castling chat --server openai --host URL -m MODEL`: the chat talks to an OpenAI-compatible server."""

from castling.cli import chat_command
from castling.cli.main import build_parser
from castling.scripted_openai import ScriptedOpenAI
from tests.cli.chatdriver import Chat

MODEL = "Qwen/Qwen3-8B"


def openai_chat(scripted: ScriptedOpenAI, **options: str) -> Chat:
    chat = Chat(scripted, **options)
    chat.options = chat.options.model_copy(update={"server": "openai"})  # `server=` is the driver's own argument
    return chat


async def test_chat_on_an_openai_compatible_server():
    server = ScriptedOpenAI(MODEL)
    server.add_reply("Hello from vLLM.")
    chat = openai_chat(server, host="http://gpu1:8000/v1", model=MODEL)
    await chat.run("hi\r", "/exit\r")
    assert "Hello from vLLM." in chat.text
    assert "/v1/chat/completions" in server.paths
    assert server.requests[0]["model"] == MODEL and server.requests[0]["stream"] is True


async def test_a_model_the_server_does_not_serve_is_one_line_naming_the_served_ones():
    chat = openai_chat(ScriptedOpenAI(MODEL), model="qwen3:8b")
    assert await chat.run() == 1
    assert "error: Model 'qwen3:8b' is not served" in chat.text and f"It serves: {MODEL}" in chat.text


def test_server_flag_is_parsed_and_an_unknown_one_is_refused(capsys):
    args = build_parser().parse_args(["chat", "--server", "openai", "--host", "http://gpu1:8000/v1", "-m", MODEL])
    assert (args.server, args.host, args.model) == ("openai", "http://gpu1:8000/v1", MODEL)
    assert build_parser().parse_args(["chat"]).server == "ollama"
    args = build_parser().parse_args(["chat", "--server", "grpc"])
    assert chat_command.run(args) == 2
    assert "unknown --server 'grpc': use one of ollama, openai" in capsys.readouterr().err
