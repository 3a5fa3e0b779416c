"""The OpenAI-compatible server: the real vLLM recording (fixture 07), what requests carry, model discovery."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import BaseModel

from castling import ModelNotFound, Qwen, tool
from castling.backbones.openai import OpenAIServer, resolve_host
from castling.backbones.server import ModelServer, override_transport
from castling.backbones.servers import make_server
from castling.backbones.wire import ChatRequest
from castling.scripted_openai import ScriptedOpenAI
from tests.conftest import recorded_json

VLLM_07 = "07_llamastack_qwen3-0.6b_vllm_think_in_content_toolcall.json"


def vllm_recording() -> tuple[dict, dict]:
    """The real vLLM exchange: the request body sent and the (non-streamed) ChatCompletion it answered."""
    recording = recorded_json(VLLM_07)
    return recording["request"]["body"], recording["response"]["body"]["__data__"]


def test_real_vllm_completion_with_think_in_content_and_a_tool_call_through_the_qwen_backbone():
    request, completion = vllm_recording()
    scripted = ScriptedOpenAI(request["model"])
    scripted.add_completion(completion)  # the server answered whole (is_streaming: false)
    backbone = Qwen(request["model"], server="openai", transport=scripted.transport)
    reply = backbone.chat(request["messages"], tools=request["tools"])
    assert [(c.name, dict(c.arguments)) for c in reply.calls] == [("calculate", {"x": 5, "y": 3, "operation": "add"})]
    assert reply.text == ""  # the inline <think> block is split off, not shown as the answer
    assert reply.thinking.startswith("Okay, the user wants to calculate 5 plus 3.")
    assert (reply.turn.usage.prompt_tokens, reply.turn.usage.completion_tokens) == (214, 149)
    assert reply.turn.done_reason == "stop"


def test_real_vllm_completion_replayed_as_an_sse_stream_gives_the_same_reply():
    request, completion = vllm_recording()
    message = completion["choices"][0]["message"]
    call = message["tool_calls"][0]
    arguments = call["function"]["arguments"]
    content = message["content"]
    events = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    events += [{"choices": [{"index": 0, "delta": {"content": content[i : i + 9]}}]} for i in range(0, len(content), 9)]
    head = {"index": 0, "id": call["id"], "type": "function", "function": {"name": "calculate", "arguments": ""}}
    events.append({"choices": [{"index": 0, "delta": {"tool_calls": [head]}}]})
    for i in range(0, len(arguments), 4):
        fragment = {"index": 0, "function": {"arguments": arguments[i : i + 4]}}
        events.append({"choices": [{"index": 0, "delta": {"tool_calls": [fragment]}}]})
    events += [{"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}]
    events += [{"choices": [], "usage": completion["usage"]}, "[DONE]"]
    scripted = ScriptedOpenAI(request["model"])
    scripted.add_events(events)
    reply = Qwen(request["model"], server="openai", transport=scripted.transport).chat(
        request["messages"], tools=request["tools"]
    )
    assert [(c.name, dict(c.arguments)) for c in reply.calls] == [("calculate", {"x": 5, "y": 3, "operation": "add"})]
    assert reply.thinking.startswith("Okay, the user wants") and reply.text == ""


def test_request_body_is_the_openai_shape_with_ids_matched_to_results():
    scripted = ScriptedOpenAI("Qwen/Qwen3-8B")
    scripted.add_reply("done")
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "weather in Paris and Lyon, and the time"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "weather", "arguments": {"city": "Paris"}}},
                {"function": {"name": "clock", "arguments": {}}},
                {"function": {"name": "weather", "arguments": {"city": "Lyon"}}},
            ],
        },
        {"role": "tool", "content": "rain", "tool_name": "weather"},
        {"role": "tool", "content": "sun", "tool_name": "weather"},
        {"role": "tool", "content": "12:00", "tool_name": "clock"},
    ]
    request = ChatRequest(
        "Qwen/Qwen3-8B",
        messages,
        options={"num_ctx": 8192, "num_predict": 256, "temperature": 0.2, "top_p": 0.9, "top_k": 20, "seed": 7}
        | {"stop": ["</s>"], "repeat_penalty": 1.1},
        think=False,
        keep_alive="5m",
    )
    OpenAIServer(transport=scripted.transport).chat(request)
    body = scripted.requests[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    calls = body["messages"][2]["tool_calls"]
    assert [(c["id"], c["type"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("call_0", "function", "weather", '{"city": "Paris"}'),
        ("call_1", "function", "clock", "{}"),
        ("call_2", "function", "weather", '{"city": "Lyon"}'),
    ]
    assert [(m["tool_call_id"], m["content"]) for m in body["messages"][3:]] == [
        ("call_0", "rain"),
        ("call_2", "sun"),
        ("call_1", "12:00"),
    ]
    assert all("tool_name" not in m for m in body["messages"])
    sampling = {k: body[k] for k in ("max_tokens", "temperature", "top_p", "top_k", "seed", "stop")}
    assert sampling == {"max_tokens": 256, "temperature": 0.2, "top_p": 0.9, "top_k": 20, "seed": 7, "stop": ["</s>"]}
    assert body["repetition_penalty"] == 1.1
    assert not {"num_ctx", "num_predict", "options", "keep_alive", "think"} & set(body)
    assert body["chat_template_kwargs"] == {"enable_thinking": False}


class Address(BaseModel):
    city: str
    country: str = "FR"


@tool
def ship(address: Address, express: bool = False) -> str:
    """Ship a parcel.

    Args:
        address: where to
        express: next-day delivery
    """
    return "ok"


def test_tools_reach_the_server_whole_with_nested_object_fields():
    scripted = ScriptedOpenAI("Qwen/Qwen3-8B")
    scripted.add_reply("ok")
    tools = [{"type": "function", "function": {"name": ship.name, "description": ship.description}}]
    tools[0]["function"]["parameters"] = ship.tool_call_schema.model_json_schema()
    Qwen("Qwen/Qwen3-8B", server="openai", transport=scripted.transport).chat(
        [{"role": "user", "content": "ship"}], tools=tools
    )
    sent = scripted.requests[0]["tools"]
    assert sent == json.loads(json.dumps(tools))
    assert "Address" in json.dumps(sent) and "city" in json.dumps(sent)


def test_schema_becomes_response_format_and_a_level_becomes_reasoning_effort():
    scripted = ScriptedOpenAI("m")
    scripted.add_reply('{"a": 1}')
    schema = {"title": "Plan steps", "type": "object", "properties": {"a": {"type": "integer"}}}
    OpenAIServer(transport=scripted.transport).chat(ChatRequest("m", [], format=schema, think="high"))
    body = scripted.requests[0]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Plan_steps", "schema": schema, "strict": True},
    }
    assert body["reasoning_effort"] == "high" and "chat_template_kwargs" not in body


def test_show_reads_vllm_max_model_len_and_llama_cpp_n_ctx_train():
    vllm = ScriptedOpenAI("Qwen/Qwen3-8B", max_model_len=32768)
    info = OpenAIServer(transport=vllm.transport).show("Qwen/Qwen3-8B")
    assert info.context_length == 32768
    assert info.capabilities == {"completion", "tools", "thinking"}  # assumed: OpenAI servers do not say

    llama_cpp_models = {"object": "list", "data": [{"id": "qwen3.gguf", "meta": {"n_ctx_train": 40960}}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=llama_cpp_models))
    assert OpenAIServer(transport=transport).show("qwen3.gguf").context_length == 40960


def test_model_not_served_names_the_served_models():
    scripted = ScriptedOpenAI("Qwen/Qwen3-8B", served=["Qwen/Qwen3-8B", "Qwen/Qwen3-32B"])
    with pytest.raises(ModelNotFound, match=r"It serves: Qwen/Qwen3-32B, Qwen/Qwen3-8B") as caught:
        OpenAIServer(transport=scripted.transport).show("qwen3:8b")
    assert caught.value.installed == ("Qwen/Qwen3-32B", "Qwen/Qwen3-8B")
    assert "vllm serve qwen3:8b" in str(caught.value)


def test_make_server_and_the_backbone_pick_the_openai_server():
    server = make_server("openai", "http://gpu1:8000/v1")
    assert isinstance(server, OpenAIServer) and isinstance(server, ModelServer)
    backbone = Qwen("Qwen/Qwen3-8B", host="http://gpu1:8000/v1", server="openai")
    assert (backbone.server.api, backbone.server.host) == ("openai", "http://gpu1:8000/v1")


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        ("http://gpu1:8000/v1", "http://gpu1:8000/v1"),
        ("http://gpu1:8000/v1/", "http://gpu1:8000/v1"),
        ("http://gpu1:8000", "http://gpu1:8000/v1"),
        ("gpu1:8080", "http://gpu1:8080/v1"),
        ("https://lm.example/api/v1", "https://lm.example/api/v1"),
    ],
)
def test_host_is_the_api_base_url(given, resolved):
    assert resolve_host(given) == resolved


def test_api_key_is_sent_as_bearer_and_never_shown():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json={"data": [{"id": "m"}]})

    backbone = Qwen("m", server="openai", api_key="sk-secret", transport=httpx.MockTransport(handler))
    backbone.server.list_models()
    assert seen == ["Bearer sk-secret"]
    assert "sk-secret" not in repr(backbone) + repr(backbone.server)


def test_scoped_transport_override_reaches_a_server_built_before_the_block():
    backbone = Qwen("Qwen/Qwen3-8B", host="http://127.0.0.1:9/v1", server="openai")
    scripted = ScriptedOpenAI("Qwen/Qwen3-8B")
    scripted.add_reply("from the override")
    with override_transport(scripted.transport):
        reply = backbone.chat([{"role": "user", "content": "hi"}])
    assert reply.text == "from the override" and scripted.pending == 0


def test_scripted_openai_is_importable_from_castling_testing():
    from castling.testing import ScriptedOpenAI as FromTesting

    assert FromTesting is ScriptedOpenAI
