"""Each way an OpenAI-compatible server goes wrong gives a server-neutral castling error that says what to do.

Error bodies are CONSTRUCTED in the shapes vLLM and llama.cpp document (`{"error": {"message", "type", "code"}}`);
the connection-refused case is a real closed loopback port.
"""

from __future__ import annotations

import socket

import httpx
import pytest

import castling
from castling import (
    Agent,
    CapabilityMissing,
    ModelNotFound,
    ModelStreamError,
    ModelTimeout,
    OllamaError,
    OllamaResponseError,
    OllamaUnreachable,
    Qwen,
    ServerError,
    ServerResponseError,
    ServerUnreachable,
)
from castling.scripted_openai import ScriptedOpenAI
from tests.conftest import weather

MODEL = "Qwen/Qwen3-8B"
VLLM_NO_PARSER = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def agent(scripted: ScriptedOpenAI, tools=(weather,)) -> Agent:
    return Agent(Qwen(MODEL, server="openai", transport=scripted.transport), tools=list(tools))


def test_old_names_are_aliases_of_the_server_neutral_ones():
    assert (OllamaError, OllamaUnreachable, OllamaResponseError) == (
        ServerError,
        ServerUnreachable,
        ServerResponseError,
    )
    assert {"ServerError", "ServerUnreachable", "ServerResponseError"} <= set(castling.__all__)
    assert issubclass(ModelStreamError, ServerError)


def test_connection_refused_names_the_host_and_what_to_start():
    host = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(ServerUnreachable) as caught:
        Agent(Qwen(MODEL, host=host, server="openai")).run("hi")
    message = str(caught.value)
    assert host in message and "vllm serve" in message and "--jinja" in message
    assert isinstance(caught.value, OllamaError)  # `except OllamaError` still catches it


async def test_connection_refused_async():
    with pytest.raises(ServerUnreachable):
        await Agent(Qwen(MODEL, host=f"http://127.0.0.1:{closed_port()}", server="openai")).arun("hi")


def test_vllm_without_a_tool_parser_says_which_flags_to_add():
    scripted = ScriptedOpenAI(MODEL)
    scripted.add_error(400, VLLM_NO_PARSER)
    with pytest.raises(CapabilityMissing) as caught:
        agent(scripted).run("weather in Paris?")
    message = str(caught.value)
    assert "--enable-auto-tool-choice --tool-call-parser hermes" in message and "llama3_json" in message
    assert "`--jinja`" in message and caught.value.capability == "tools"


def test_llama_cpp_without_jinja_says_so():
    scripted = ScriptedOpenAI(MODEL)
    body = {"error": {"code": 500, "message": "tools param requires --jinja flag", "type": "server_error"}}
    scripted.add_error(500, "", body=body)
    with pytest.raises(CapabilityMissing, match="llama.cpp: `--jinja`"):
        agent(scripted).run("weather in Paris?")


def test_404_on_chat_names_the_served_models():
    scripted = ScriptedOpenAI(MODEL, served=[MODEL, "Qwen/Qwen3-32B"])
    scripted.add_error(404, f"The model `{MODEL}` does not exist.")
    with pytest.raises(ModelNotFound, match="It serves: Qwen/Qwen3-32B, Qwen/Qwen3-8B"):
        Qwen(MODEL, server="openai", transport=scripted.transport).chat([{"role": "user", "content": "hi"}])


async def test_404_on_chat_names_the_served_models_async():
    scripted = ScriptedOpenAI(MODEL, served=[MODEL, "Qwen/Qwen3-32B"])
    scripted.add_error(404, f"The model `{MODEL}` does not exist.")
    backbone = Qwen(MODEL, server="openai", transport=scripted.transport)
    with pytest.raises(ModelNotFound, match="It serves: Qwen/Qwen3-32B, Qwen/Qwen3-8B"):
        await backbone.achat([{"role": "user", "content": "hi"}])


def test_500_before_the_stream_is_a_response_error_with_the_status():
    scripted = ScriptedOpenAI(MODEL)
    scripted.add_error(500, "CUDA out of memory")
    with pytest.raises(ServerResponseError, match="answered 500 .*CUDA out of memory") as caught:
        agent(scripted).run("hi")
    assert caught.value.status_code == 500


def test_error_event_mid_stream_keeps_the_partial_text():
    scripted = ScriptedOpenAI(MODEL)
    scripted.add_stream_error("EngineCore encountered an issue", text_before="The answer is fo")
    with pytest.raises(ModelStreamError, match="EngineCore encountered an issue") as caught:
        agent(scripted).run("hi")
    assert caught.value.partial_text == "The answer is fo"


async def test_error_event_mid_stream_async():
    scripted = ScriptedOpenAI(MODEL)
    scripted.add_stream_error("boom", text_before="partial")
    with pytest.raises(ModelStreamError) as caught:
        await agent(scripted).arun("hi")
    assert caught.value.partial_text == "partial"


def test_missing_api_key_says_to_pass_one():
    scripted = ScriptedOpenAI(MODEL)
    scripted.add_error(401, "Unauthorized")
    with pytest.raises(ServerResponseError, match="api_key="):
        agent(scripted).run("hi")


def test_timeout():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": MODEL}]})
        raise httpx.ReadTimeout("timed out", request=request)

    backbone = Qwen(MODEL, server="openai", transport=httpx.MockTransport(handler), timeout=5)
    with pytest.raises(ModelTimeout, match="did not answer in time"):
        Agent(backbone).run("hi")


def test_a_connection_cut_mid_stream_keeps_the_partial_text():
    class Cut(httpx.SyncByteStream):
        def __iter__(self):
            yield b'data: {"choices": [{"index": 0, "delta": {"content": "Half an ans"}}]}\n\n'
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": MODEL}]})
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Cut())

    with pytest.raises(ModelStreamError) as caught:
        Agent(Qwen(MODEL, server="openai", transport=httpx.MockTransport(handler))).run("hi")
    assert caught.value.partial_text == "Half an ans"


def test_a_wrong_base_url_is_pointed_out():
    transport = httpx.MockTransport(lambda request: httpx.Response(404, text="404 page not found"))
    with pytest.raises(ServerResponseError, match="API base URL"):
        Agent(Qwen(MODEL, host="http://gpu1:8000/api", server="openai", transport=transport)).run("hi")


def test_a_json_answer_that_is_not_a_completion_is_a_clear_error():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": MODEL}]})
        return httpx.Response(200, headers={"content-type": "application/json"}, content=b"<html>proxy</html>")

    with pytest.raises(ServerResponseError, match="not a chat completion"):
        Agent(Qwen(MODEL, server="openai", transport=httpx.MockTransport(handler))).run("hi")
