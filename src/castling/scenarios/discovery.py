"""Discovery answered from a scenario: `/api/show`, `/api/tags`, `/api/ps`, `/api/version` and `/v1/models`.

Served whenever asked, in any order: the recorded answer if there is one, else one derived from the models the
recorded requests named. Ollama's model names are compared as Ollama compares them (no tag means `:latest`).
"""

from __future__ import annotations

from typing import Any

import httpx

from castling.scenarios.format import ModelTurn, Scenario
from castling.scenarios.openai_wire import error_response, is_models_path, models_response


def same_model(a: str, b: str) -> bool:
    """Whether two Ollama model names are one model: no tag means `:latest` (`llama3` = `llama3:latest`)."""
    return _full_name(a) == _full_name(b)


def _full_name(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def scenario_models(scenario: Scenario) -> list[str]:
    """The models the recorded requests named (the agent's model if none did)."""
    models = {str(t.request.body.get("model")) for t in scenario.model_turns if isinstance(t.request.body, dict)}
    return sorted(models) or [scenario.agent.model]


def discovery_response(scenario: Scenario, route: str, body: Any) -> httpx.Response:
    """`/api/show`, `/api/tags`, `/api/ps`, `/api/version`, `/v1/models`: recorded if possible, else derived."""
    model = str(body.get("model") or body.get("name") or "") if isinstance(body, dict) else ""
    for exchange in scenario.server:
        if exchange.path == route and (route != "/api/show" or same_model(exchange.model, model)):
            return httpx.Response(exchange.status, json=exchange.body)
    models = scenario_models(scenario)
    if is_models_path(route):
        return models_response(models, route)
    if route.startswith("/v1/") or scenario.agent.server == "openai":
        return error_response(404, f"{route} is not recorded in scenario {scenario.id!r} (a replay serves only it)")
    if route == "/api/version":
        return httpx.Response(200, json={"version": scenario.recording.ollama_version or "0.0.0-replay"})
    if route == "/api/tags":
        return httpx.Response(200, json={"models": [_tag(m, scenario.recording.model_digest) for m in models]})
    if route == "/api/ps":
        loaded = [{**_tag(m, scenario.recording.model_digest), "expires_at": _NEVER, "size_vram": 0} for m in models]
        return httpx.Response(200, json={"models": loaded})
    if route == "/api/show":
        if not any(same_model(model, m) for m in models):
            return httpx.Response(404, json={"error": f"model '{model}' not found"})
        capabilities = ["completion", "tools"] + (["thinking"] if _thinks(scenario.model_turns) else [])
        return httpx.Response(200, json={"capabilities": capabilities, "model_info": {}, "details": {}})
    return httpx.Response(404, text="404 page not found")


_NEVER = "2999-01-01T00:00:00Z"
"""When a replayed model would be unloaded: never (it costs no memory)."""


def _thinks(turns: list[ModelTurn]) -> bool:
    return any(isinstance(t.request.body, dict) and t.request.body.get("think") for t in turns)


def _tag(name: str, digest: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-01-01T00:00:00Z",
        "size": 0,
        "digest": digest.removeprefix("sha256:") or "0" * 64,
        "details": {},
    }
