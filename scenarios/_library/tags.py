"""A real /api/tags listing (fixture 06) as the discovery of a scenario (`discovery/`); the chat turn is constructed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from castling.scenarios.format import AgentConfig, Recording, Scenario, ServerExchange
from castling.scenarios.live import ServerLive
from castling.scenarios.runner import record, replay
from castling.scenarios.store import save
from castling.testing import ScriptedOllama

from .common import FIXTURES, NO_ERROR, ROOT, answer

TAGS_PROVENANCE = (
    "/api/tags body: REAL traffic, meta-llama/llama-stack @ b12cd528 : tests/integration/recordings/responses/"
    "4a3a4447b16b.json (MIT), stored there as the ollama client's ListResponse (the client drops `name`) and "
    "unwrapped from `__data__` unchanged. /api/show capabilities (from the models' Ollama library pages) and the "
    "chat turn: constructed."
)
# What Ollama's /api/show reports for these families (not in the recording; llama-guard3 has no tool template).
SHOW_CAPABILITIES = {
    "llama3.2-vision": ["completion", "vision"],
    "llama3.2": ["completion", "tools"],
    "llama-guard3": ["completion"],
    "nomic-embed-text": ["embedding"],
    "all-minilm": ["embedding"],
}


def real_tags_body() -> dict[str, Any]:
    """Fixture 06 unwrapped: llama-stack stores pydantic responses as {"__type__": ..., "__data__": {...}}."""
    stored = json.loads((FIXTURES / "06_llamastack_ollama_apitags_listresponse.json").read_text())
    wrapped = stored["response"]["body"]
    assert wrapped["__type__"] == "ollama._types.ListResponse"
    body: dict[str, Any] = wrapped["__data__"]
    return body


def build_tags() -> None:
    """Record the constructed chat turn, then swap in the real listing and replay the file as written."""
    body = real_tags_body()
    model = "llama3.2:3b"  # what `castling chat` picks from this listing (see tests/scenarios/test_real_tags.py)
    path = ROOT / "discovery" / "llamastack-tags-default-model.yaml"
    recorded = _record_chat(model, path)
    digest = next(m["digest"] for m in body["models"] if m["model"] == model)
    version = [e for e in recorded.server if e.path == "/api/version"]
    fresh = recorded.model_copy(
        update={
            "server": [*version, ServerExchange(path="/api/tags", body=body), *_show_exchanges(body)],
            "recording": recorded.recording.model_copy(
                update={"provenance": TAGS_PROVENANCE, "model_digest": "sha256:" + digest}
            ),
        }
    )
    save(fresh, path, schema_ref="../scenario.schema.json")
    check = replay(fresh, path)
    print(f"{check.status:8} {path.relative_to(ROOT)} {check.message()}")
    assert check.ok, check.message()


def _record_chat(model: str, path: Path) -> Scenario:
    server = ScriptedOllama(model, capabilities=("completion", "tools"))
    server.add_reply("Hello! How can I help you today?", prompt_tokens=31, completion_tokens=10)
    scenario = Scenario(
        id="llamastack-tags-default-model",
        task_id="default-model",
        description="A real Ollama model listing (/api/tags) served as discovery; the REPL's default-model choice "
        "reads it. The chat turn is constructed.",
        tags=["llama", "converted", "discovery", "real-tags"],
        task="Say hello in one short sentence.",
        agent=AgentConfig(backbone="llama", model=model, strategy="tools", max_steps=4),
        recording=Recording(source="constructed"),
        expectations=[answer("", contains="Hello"), NO_ERROR],
    )
    report = record(scenario, path, ServerLive(server.transport))
    assert report.saved and report.scenario is not None, report.message()
    return report.scenario


def _show_exchanges(body: dict[str, Any]) -> list[ServerExchange]:
    """What /api/show answers for each listed model: its family's capabilities, details and context length."""
    shows = []
    for entry in body["models"]:
        family = next(f for f in SHOW_CAPABILITIES if entry["model"].startswith(f + ":"))
        info = {"general.architecture": entry["details"]["family"]}
        if "completion" in SHOW_CAPABILITIES[family]:
            info[f"{entry['details']['family']}.context_length"] = 131072
        show = {"capabilities": SHOW_CAPABILITIES[family], "details": entry["details"], "model_info": info}
        shows.append(ServerExchange(path="/api/show", model=entry["model"], body=show))
    return shows
