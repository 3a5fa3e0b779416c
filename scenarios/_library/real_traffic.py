"""Real traffic (`live/`): the recordings in the shared fixtures converted to scenarios (`source: live`)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from castling.scenarios.format import (
    AgentConfig,
    Expectation,
    ModelTurn,
    Recording,
    Scenario,
    WireRequest,
    WireResponse,
)
from castling.scenarios.recorder import summarise
from castling.scenarios.runner import replay
from castling.scenarios.store import save

from .common import FIXTURES, NO_ERROR, ROOT, answer, called

# the checks of each dotnet/extensions exchange, by test name
DOTNET_CHECKS = {
    "BasicRequestResponse_NonStreaming": [answer("", contains="Hello!")],
    "BasicRequestResponse_Streaming": [answer("", contains="Hello! How are you today?")],
    "MultipleMessages_NonStreaming": [answer("", contains="computer program")],
    "FunctionCallContent_NonStreaming": [called("GetPersonAge", personName="Alice")],
    "FunctionResultContent_NonStreaming": [answer("", contains="42")],
}


def live_scenario(
    ident: str,
    task: str,
    model: str,
    turns: list[tuple[dict[str, Any], WireResponse]],
    provenance: str,
    recorded_at: str,
    expectations: list[Expectation],
    clients: dict[str, str],
    *,
    backbone: str = "llama",
    openai_path: str = "",
) -> None:
    """Write `live/<ident>.yaml` from recorded turns and check that it replays (`openai_path`: the OpenAI wire)."""
    reader = "its JSON read as the OpenAI wire" if openai_path else "read with the ollama client"
    scenario = Scenario(
        id=ident,
        task_id=ident,
        description=f"Real traffic, resent as recorded through the replay transport and {reader}.",
        tags=["live", "converted", *(["openai"] if openai_path else [])],
        task=task,
        agent=AgentConfig(runner="wire", backbone=backbone, model=model, server="openai" if openai_path else "ollama"),
        recording=Recording(source="live", recorded_at=recorded_at, provenance=provenance, client_versions=clients),
        model_turns=_model_turns(turns, openai_path or "/api/chat"),
        expectations=expectations,
    )
    path = ROOT / "live" / f"{ident}.yaml"
    save(scenario, path, schema_ref="../scenario.schema.json")
    report = replay(scenario, path)
    print(f"{report.status:8} {path.relative_to(ROOT)} {report.message()}")
    assert report.ok, report.message()


def _model_turns(turns: list[tuple[dict[str, Any], WireResponse]], path: str) -> list[ModelTurn]:
    model_turns = []
    for index, (body, response) in enumerate(turns):
        chunks = response.chunks if response.chunks is not None else [response.body]
        request = WireRequest(path=path, body=body)
        model_turns.append(ModelTurn(turn=index, request=request, response=response, summary=summarise(chunks)))
    return model_turns


def build_live() -> None:
    """Convert the openllmetry cassette, each dotnet/extensions exchange, then the vLLM (OpenAI wire) recording."""
    _build_openllmetry()
    dotnet = json.loads((FIXTURES / "11_dotnet_extensions_llama3.1_apichat_exchanges.json").read_text())
    for item in dotnet["exchanges"]:
        _build_dotnet(item)
    _build_vllm()


def _build_vllm() -> None:
    """Fixture 07: Qwen3-0.6B on vLLM, `<think>` left in `content` beside a parsed tool call (non-streamed)."""
    recording = json.loads((FIXTURES / "07_llamastack_qwen3-0.6b_vllm_think_in_content_toolcall.json").read_text())
    request, body = recording["request"], recording["response"]["body"]["__data__"]  # llama-stack's wrapper off
    live_scenario(
        "vllm-qwen3-0.6b-think-in-content-toolcall",
        request["body"]["messages"][-1]["content"],
        request["body"]["model"],
        [(request["body"], WireResponse(content_type="application/json", body=body))],
        "llamastack/llama-stack @ d1b66329 : tests/integration/inference/recordings/440d2fa9….json (MIT); "
        "recorded at POST /v1/v1/chat/completions (llama-stack's base URL already ended in /v1), stored at its "
        "endpoint /v1/chat/completions; the response unwrapped from llama-stack's __data__",
        "",
        [
            called("calculate", x=5, y=3, operation="add"),
            answer("", contains="</think>"),  # the real quirk, kept: vLLM left Qwen3's reasoning in `content`
            NO_ERROR,
        ],
        {"llama-stack": "d1b66329"},
        backbone="qwen",
        openai_path=request["endpoint"],
    )


def _build_openllmetry() -> None:
    cassette = yaml.safe_load((FIXTURES / "10_openllmetry_llama3_apichat_ndjson_stream.yaml").read_text())
    exchange = cassette["interactions"][0]
    body = json.loads(exchange["request"]["body"])
    chunks = [json.loads(line) for line in exchange["response"]["body"]["string"].splitlines() if line.strip()]
    live_scenario(
        "openllmetry-llama3-joke-stream",
        body["messages"][0]["content"],
        "llama3",
        [(body, WireResponse(chunks=chunks))],
        "traceloop/openllmetry @ 93429cfb : packages/opentelemetry-instrumentation-ollama/tests/cassettes/test_chat/"
        "test_ollama_streaming_chat_with_events_with_content.yaml (Apache-2.0)",
        chunks[0]["created_at"],
        [answer("", contains="OpenTelemetry"), NO_ERROR],
        {"ollama-python": "0.2.0"},
    )


def _build_dotnet(item: dict[str, Any]) -> None:
    name = item["name"]
    request = item["request"]
    if "response_ndjson" in item:
        response = WireResponse(chunks=item["response_ndjson"])
    else:
        response = WireResponse(content_type="application/json; charset=utf-8", body=item["response"])
    created = (response.chunks or [response.body])[0]["created_at"]
    task = next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user")
    live_scenario(
        "dotnet-llama3.1-" + name.replace("_", "-").lower(),
        task,
        request["model"],
        [(request, response)],
        "dotnet/extensions @ d892c518 : test/Libraries/Microsoft.Extensions.AI.Ollama.Tests/"
        f"OllamaChatClientTests.cs, test {name} (MIT)",
        created,
        [*DOTNET_CHECKS[name], NO_ERROR],
        {"Microsoft.Extensions.AI.Ollama": "d892c518"},
    )
