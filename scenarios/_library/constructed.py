"""The recording/replay driver for the constructed scenarios: every task, for each backbone and strategy.

Each task runs the real agent against `castling.testing.ScriptedOllama` through the scenario recorder, so the
files hold exactly what castling sends and what an Ollama server streams back (`source: constructed`); each file
is then replayed as written (real tools, offline). The `openai/` folders record the same tasks, scripts and tools
on the OpenAI-compatible wire, against `castling.scripted_openai.ScriptedOpenAI` (vLLM-shaped SSE, also
constructed), so each file there has its Ollama-wire twin: `openai/qwen/` ↔ `qwen/`, `openai/llama/` ↔ `llama/`,
`openai/llama-plan/` ↔ `llama-plan/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

import httpx

from castling.scenarios import execute as execute_module
from castling.scenarios.format import AgentConfig, Recording, Scenario
from castling.scenarios.live import ServerLive
from castling.scenarios.runner import record, replay
from castling.scenarios.store import load
from castling.scripted_openai import ScriptedOpenAI
from castling.testing import ScriptedOllama

from .common import ROOT
from .plan_replies import PlanReplies
from .plan_tasks import PLAN_TASKS, plan_expectations
from .stand_ins import example_org, with_stand_ins
from .tools_tasks import TASKS, Task


class Config(NamedTuple):
    """One library folder: the backbone family, model and strategy its scenarios are recorded with."""

    folder: str
    family: str
    model: str
    strategy: Literal["tools", "plan"]
    server: Literal["ollama", "openai"] = "ollama"


OPENAI_HOST = "http://127.0.0.1:8000/v1"
"""Where the recorded agent thinks vLLM is (the scripted server answers through the transport; the path counts)."""
LLAMA_ON_VLLM = "meta-llama/Llama-3.1-8B-Instruct"
"""The name vLLM serves Llama 3.1 8B under (its Hugging Face id), as `Qwen/Qwen3-8B` for Qwen."""
CONFIGS = [
    Config("qwen", "qwen", "qwen3:8b", "tools"),
    Config("llama", "llama", "llama3.1:8b", "tools"),
    Config("llama-plan", "llama", "llama3.1:8b", "plan"),
    Config("openai/qwen", "qwen", "Qwen/Qwen3-8B", "tools", "openai"),
    Config("openai/llama", "llama", LLAMA_ON_VLLM, "tools", "openai"),
    Config("openai/llama-plan", "llama", LLAMA_ON_VLLM, "plan", "openai"),
]
OPENAI_FOLDERS = {config.folder for config in CONFIGS if config.server == "openai"}


def build_constructed(folders: set[str] | None = None) -> None:
    """Record and replay every task for each configuration (only those whose folder is in `folders`, if given)."""
    original = execute_module.build_tools
    execute_module.build_tools = with_stand_ins(None)
    try:
        for config in CONFIGS:
            if folders is not None and config.folder not in folders:
                continue
            for task in TASKS:
                _build_task(config, task)
    finally:
        execute_module.build_tools = original


def _build_task(config: Config, task: Task) -> None:
    folder, family, model, strategy, api = config
    task_id, description, text, tools, script, expectations = task
    capabilities = ("completion", "tools", "thinking") if family == "qwen" else ("completion", "tools")
    server: ScriptedOllama | ScriptedOpenAI = (
        ScriptedOpenAI(model) if api == "openai" else ScriptedOllama(model, capabilities=capabilities)
    )
    if strategy == "plan":
        description, plan_script, calls = PLAN_TASKS[task_id]
        plan_script(PlanReplies(server))
        expectations = plan_expectations(task_id, expectations, calls)
    else:
        script(server, family)  # type: ignore[arg-type]  # ScriptedOpenAI takes the same add_reply calls
    scenario = Scenario(
        id=f"{folder.replace('/', '-')}-{task_id}",
        task_id=task_id,
        description=description,
        tags=[family, *(["plan"] if strategy == "plan" else []), *_wire(api), "constructed"],
        task=text,
        agent=AgentConfig(backbone=family, model=model, server=api, strategy=strategy, tools=tools, max_steps=6),
        recording=Recording(source="constructed"),
        expectations=expectations,
    )
    _record_and_replay(scenario, server, ROOT / folder / f"{task_id}.yaml")


def _wire(api: str) -> list[str]:
    return ["openai"] if api == "openai" else []


def _record_and_replay(scenario: Scenario, server: ScriptedOllama | ScriptedOpenAI, path: Path) -> None:
    live = ServerLive(server.transport, httpx.MockTransport(example_org))
    if scenario.agent.server == "openai":
        live.host = OPENAI_HOST
    report = record(scenario, path, live)
    print(f"{report.status:8} {path.relative_to(ROOT)} {report.message()}")
    assert report.saved, report.message()
    assert not server.pending, f"{path}: {server.pending} scripted replies unused"
    check = replay(load(path), path)  # the file as written replays (real tools, offline)
    assert check.ok, check.message()
