"""What an eval runs: each task × model × backbone × strategy, `repeats` times, as keyed run specs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from castling.backbones.registry import family_or_fallback
from castling.scenarios.format import Recording, Scenario


@dataclass(frozen=True)
class Config:
    """One configuration being compared."""

    model: str
    backbone: str
    strategy: str

    @property
    def label(self) -> str:
        return f"{self.model} · {self.backbone} · {self.strategy}"


@dataclass(frozen=True)
class RunSpec:
    """One run: a task under a configuration, repeat number `repeat` (1-based)."""

    task: str
    config: Config
    repeat: int
    scenario: Scenario
    """The task's scenario with the configuration's agent settings (tools, expectations, prompt kept)."""
    folder: Path = field(default=Path(), compare=False)
    """The folder of the task's file (its `tool_http` blobs live there)."""

    @property
    def key(self) -> str:
        """Stable identity in the results journal (a resumed eval skips keys already there).

        It includes a digest of what the run does (task, user turns, agent settings, expectations), so runs of a
        scenario edited since are done again rather than mixed with the new ones.
        """
        c = self.config
        return f"{self.task}|{c.model}|{c.backbone}|{c.strategy}|{self.repeat}|{_digest(self.scenario)}"


def _digest(scenario: Scenario) -> str:
    what = scenario.model_dump_json(include={"task", "user_turns", "agent", "expectations"})
    return hashlib.sha256(what.encode()).hexdigest()[:12]


def templates(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """One scenario per task (`task_id`, else `id`): the first agent scenario found; wire traffic is skipped."""
    found: dict[str, Scenario] = {}
    for scenario in scenarios:
        if scenario.agent.runner == "agent":
            found.setdefault(scenario.group, scenario)
    return list(found.values())


def plan_runs(
    scenarios: Sequence[Scenario],
    models: Sequence[str],
    backbones: Sequence[str] = (),
    strategies: Sequence[str] = (),
    repeats: int = 1,
    folders: Mapping[str, Path] | None = None,
    server: str | None = None,
) -> list[RunSpec]:
    """Every run, ordered repeat-major so an interrupted eval has a little of everything rather than one task.

    `folders`: the folder of each scenario's file, by scenario id (for the blobs of its recorded web).
    `server`: the API every run speaks (`ollama`, `openai`), instead of each file's own.
    """
    folders = folders or {}
    specs = []
    for repeat in range(1, max(1, repeats) + 1):
        for template in templates(scenarios):
            for model in models:
                for backbone in backbones or [family_or_fallback(model)]:
                    for strategy in strategies or [template.agent.strategy or "tools"]:
                        config = Config(model, backbone, strategy)
                        run = variant(template, config, server)
                        specs.append(RunSpec(template.group, config, repeat, run, folders.get(template.id, Path())))
    return specs


def variant(template: Scenario, config: Config, server: str | None = None) -> Scenario:
    """The template under `config`, as a fresh live scenario: no model traffic; its `tool_http` kept as its web."""
    update = {"model": config.model, "backbone": config.backbone, "strategy": config.strategy}
    agent = template.agent.model_copy(update={**update, **({"server": server} if server else {})})
    return template.model_copy(
        update={
            "agent": agent,
            "recording": Recording(source="live"),
            "server": [],
            "model_turns": [],
            "code_exec": [],
        }
    )
