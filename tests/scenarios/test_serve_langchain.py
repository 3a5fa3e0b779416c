"""langchain-ollama's `ChatOllama` (a dev dependency) against a real `castling serve` process, in strict mode."""

from pathlib import Path

import ollama
import pytest
from langchain_ollama import ChatOllama

from tests.scenarios.serve_helpers import dotnet_conversation, serving


def GetPersonAge(personName: str) -> int:  # the names (and docstring) of the recorded tool
    """Gets the age of the specified person.

    Args:
        personName: The person whose age is being requested
    """
    return 42


def test_chat_whole_and_streamed(tmp_path: Path):
    path = dotnet_conversation(tmp_path, "basicrequestresponse-nonstreaming", "basicrequestresponse-streaming")
    with serving(path) as served:
        whole = ChatOllama(model="llama3.1", base_url=served.url, temperature=0.5, num_predict=10).invoke("hello")
        chat = ChatOllama(model="llama3.1", base_url=served.url, temperature=0.5, num_predict=20)
        chunks = [chunk.content for chunk in chat.stream("hello")]
    assert whole.content == "Hello! How are you today? Is there something"
    assert whole.usage_metadata is not None and whole.usage_metadata["output_tokens"] == 10
    assert len(chunks) > 1 and "".join(map(str, chunks)).startswith("Hello! How are you today? Is there something I")


def test_a_tool_call(tmp_path: Path):
    with serving(dotnet_conversation(tmp_path, "functioncallcontent-nonstreaming")) as served:
        chat = ChatOllama(model="llama3.1", base_url=served.url).bind_tools([GetPersonAge])
        message = chat.invoke("How old is Alice?")
    assert [(call["name"], call["args"]) for call in message.tool_calls] == [("GetPersonAge", {"personName": "Alice"})]


def test_an_unknown_model_raises_ollamas_error(tmp_path: Path):
    with serving(dotnet_conversation(tmp_path, "basicrequestresponse-nonstreaming")) as served:
        with pytest.raises(ollama.ResponseError) as info:
            ChatOllama(model="mistral", base_url=served.url).invoke("hello")
    assert info.value.status_code == 404 and info.value.error == "model 'mistral' not found"
