"""`castling backbones --host URL`: each server's models, the backbone castling maps them to, tools and thinking.

Real loopback servers: `OllamaStub` (Ollama's discovery endpoints, stdlib http.server) and `castling serve`'s
`ReplayServer` answering `/v1/models` from a scenario file (a vLLM-shaped model list, constructed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from castling.cli.main import main
from castling.scenarios.format import ServerExchange
from castling.scenarios.serve import ReplayServer
from castling.scenarios.store import save
from tests.cli.ollama_stub import OllamaStub
from tests.loopback import KEY, KeyedServer, refusing_url, serving
from tests.scenarios.openai_helpers import openai_weather_scenario

VLLM_MODELS = {
    "object": "list",
    "data": [
        {"id": "Qwen/Qwen3-8B", "object": "model", "owned_by": "vllm", "max_model_len": 32768},
        {"id": "meta-llama/Llama-3.1-8B-Instruct", "object": "model", "owned_by": "vllm", "max_model_len": 131072},
    ],
}


@pytest.fixture
def ollama() -> Iterator[OllamaStub]:
    with OllamaStub(["qwen3:8b", "llama3.1:8b", "gemma3:4b"], ("completion", "tools", "thinking")) as stub:
        yield stub


@pytest.fixture
def vllm(tmp_path: Path) -> Iterator[str]:
    scenario = openai_weather_scenario()
    scenario.server = [ServerExchange(path="/v1/models", body=VLLM_MODELS)]
    save(scenario, tmp_path / "vllm-models.yaml")
    server = ReplayServer(tmp_path / "vllm-models.yaml", port=0).start()
    yield server.url
    server.stop()


def lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_ollama_models_with_their_backbone_tools_and_thinking(ollama, capsys):
    assert main(["backbones", "--host", ollama.host]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"http://{ollama.host} (ollama): 3 models"
    rows = lines(out)
    assert ["model", "backbone", "context", "tools", "thinking"] in rows
    assert ["qwen3:8b", "qwen", "8,192", "yes", "yes"] in rows
    assert ["llama3.1:8b", "llama", "8,192", "yes", "no"] in rows  # Llama has no thinking mode, whatever is listed
    assert ["gemma3:4b", "qwen", "(fallback)", "8,192", "yes", "yes"] in rows


def test_an_unreachable_host_is_one_line_and_the_others_are_still_shown(ollama, capsys):
    dead = refusing_url()
    assert main(["backbones", "--host", dead, "--host", ollama.host]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{dead} (ollama): Ollama is not reachable at {dead}: start it with `ollama serve` "
        "(or point OLLAMA_HOST / --host at the server that runs it)."
    )
    assert out[1] == f"http://{ollama.host} (ollama): 3 models" and len(out) == 6


def test_every_host_unreachable_exits_1(capsys):
    assert main(["backbones", "--server", "openai", "--host", refusing_url()]) == 1
    assert "No OpenAI-compatible server answers at" in capsys.readouterr().out


def test_openai_server_models_with_max_model_len_and_assumed_capabilities(vllm, capsys):
    assert main(["backbones", "--server", "openai", "--host", vllm]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{vllm}/v1 (openai): 2 models"
    rows = lines(out)
    assert ["Qwen/Qwen3-8B", "qwen", "32,768", "assumed", "assumed"] in rows
    assert ["meta-llama/Llama-3.1-8B-Instruct", "llama", "131,072", "assumed", "no"] in rows
    assert "assumed: an OpenAI-compatible server does not say what a model can do" in out


def test_json_for_machines(vllm, ollama, capsys):
    dead = refusing_url()
    assert main(["backbones", "--server", "openai", "--host", vllm, "--host", dead, "--json"]) == 0
    hosts = json.loads(capsys.readouterr().out)["hosts"]
    assert [(h["host"], h["server"], h["error"] is None) for h in hosts] == [
        (f"{vllm}/v1", "openai", True),
        (f"{dead}/v1", "openai", False),
    ]
    llama = hosts[0]["models"][1]
    assert llama == {
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "backbone": "llama",
        "fallback": False,
        "context_length": 131072,
        "tools": True,
        "thinking": False,
        "assumed": True,
        "capabilities": ["completion", "thinking", "tools"],
        "error": None,
    }
    assert main(["backbones", "--host", ollama.host, "--json"]) == 0
    models = json.loads(capsys.readouterr().out)["hosts"][0]["models"]
    assert [(m["model"], m["backbone"], m["fallback"], m["assumed"]) for m in models] == [
        ("gemma3:4b", "qwen", True, False),
        ("llama3.1:8b", "llama", False, False),
        ("qwen3:8b", "qwen", False, False),
    ]


def test_without_a_host_the_profiles_are_listed_as_before(capsys):
    assert main(["backbones", "--json"]) == 0
    families = [b["family"] for b in json.loads(capsys.readouterr().out)["backbones"]]
    assert families == ["qwen", "llama"]


def test_an_unknown_server_name_is_refused(capsys):
    assert main(["backbones", "--server", "grpc", "--host", "http://127.0.0.1:1"]) == 2
    assert "unknown --server 'grpc': use ollama or openai" in capsys.readouterr().err


def test_the_api_key_is_sent_from_the_flag_or_castling_api_key(vllm, monkeypatch, capsys):
    from castling.cli import backbones_command

    sent: list[str | None] = []
    real = backbones_command.survey

    def spy(api, host, api_key):
        sent.append(api_key)
        return real(api, host, api_key)

    monkeypatch.setattr(backbones_command, "survey", spy)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")
    main(["backbones", "--server", "openai", "--host", vllm])
    monkeypatch.setenv("CASTLING_API_KEY", "from-env")
    main(["backbones", "--server", "openai", "--host", vllm])
    main(["backbones", "--server", "openai", "--host", vllm, "--api-key", "from-flag"])
    assert sent == [None, "from-env", "from-flag"]


def test_a_server_refusing_the_key_says_which_flag_or_variable_gives_it(monkeypatch, capsys):
    monkeypatch.delenv("CASTLING_API_KEY", raising=False)
    with serving(KeyedServer(replies=0)) as url:
        assert main(["backbones", "--server", "openai", "--host", url]) == 1
        refused = capsys.readouterr().out
        assert main(["backbones", "--server", "openai", "--host", url, "--api-key", KEY]) == 0
        listed = capsys.readouterr().out
    assert refused == (
        f"{url} (openai): The server at {url} refused the request (401: Invalid API key): "
        "pass the key it expects with --api-key KEY or $CASTLING_API_KEY.\n"
    )
    assert listed.startswith(f"{url} (openai): 1 model\n") and "Qwen/Qwen3-8B" in listed


def test_a_key_for_an_ollama_server_is_refused_with_what_to_do(capsys):
    assert main(["backbones", "--host", refusing_url(), "--api-key", KEY]) == 2
    assert capsys.readouterr().err == (
        "castling backbones: --api-key is for an OpenAI-compatible server: add --server openai\n"
    )


def test_what_a_server_sends_cannot_drive_the_terminal(capsys):
    with OllamaStub(["qwen3:8b\x1b]52;c;cm0gLXJmIH4=\x07", "llama3.1:8b"]) as stub:
        assert main(["backbones", "--host", stub.host]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "qwen3:8b\u241b]52;c;cm0gLXJmIH4=\u2407" in out
