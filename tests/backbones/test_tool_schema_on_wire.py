"""Tool schemas reach Ollama whole: nested objects keep their properties, required fields and refs (inlined).

The `ollama` client 0.6.x rebuilds `tools` through its pydantic `Tool` model, which drops everything but `type`,
`items`, `description` and `enum` per property; these tests look at the body the server received.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from castling import Agent, Qwen
from castling.backbones.ollama import OllamaServer
from castling.backbones.wire import ChatRequest
from castling.testing import ScriptedOllama


class Address(BaseModel):
    street: str = Field(description="Street and number.")
    city: str
    country: Literal["FR", "DE"] = "FR"


def ship(address: Address, weight_kg: float) -> str:
    """Ship a parcel to an address."""
    return f"shipped to {address.city}"


def _sent_parameters(server: ScriptedOllama) -> dict:
    return server.requests[0]["tools"][0]["function"]["parameters"]


def test_a_tool_taking_a_pydantic_model_reaches_the_server_with_its_nested_fields():
    server = ScriptedOllama("qwen3:8b")
    server.add_reply("Nothing to ship.")
    Agent(Qwen("qwen3:8b", transport=server.transport), tools=[ship]).run("ship it")
    address = _sent_parameters(server)["properties"]["address"]
    assert address["type"] == "object"
    assert set(address["properties"]) == {"street", "city", "country"}
    assert address["properties"]["street"]["description"] == "Street and number."
    assert address["properties"]["country"]["enum"] == ["FR", "DE"]
    assert set(address["required"]) == {"street", "city"}


async def test_refs_are_inlined_and_any_of_kept_on_the_async_path():
    server = ScriptedOllama("qwen3:8b")
    server.add_reply("ok")
    parameters = {
        "type": "object",
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
        "properties": {"where": {"anyOf": [{"$ref": "#/$defs/Point"}, {"type": "string"}]}},
        "required": ["where"],
    }
    tool = {"type": "function", "function": {"name": "go", "description": "Go.", "parameters": parameters}}
    request = ChatRequest("qwen3:8b", [{"role": "user", "content": "go"}], tools=[tool])
    await OllamaServer(transport=server.transport).achat(request)
    where = _sent_parameters(server)["properties"]["where"]
    assert where == {
        "anyOf": [{"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}, {"type": "string"}]
    }
    assert "$defs" not in _sent_parameters(server)
