import json

import httpx
import ollama

from castling.backbones.tool_schema import for_ollama


def test_optional_integer_keeps_its_type_through_the_ollama_client():
    parameters = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string"},
            "max_length": {
                "anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}],
                "description": "cap",
            },
        },
    }
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"message": {"role": "assistant", "content": ""}, "done": True})

    client = ollama.Client("http://127.0.0.1:1", transport=httpx.MockTransport(handler))
    tool = {"type": "function", "function": {"name": "f", "description": "d", "parameters": for_ollama(parameters)}}
    client.chat("m", [], tools=[tool])
    assert sent[0]["tools"][0]["function"]["parameters"]["properties"]["max_length"] == {
        "type": "integer",
        "description": "cap",
    }


def test_unions_of_two_real_types_are_left_alone():
    spec = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert for_ollama({"properties": {"x": spec}})["properties"]["x"] == spec
