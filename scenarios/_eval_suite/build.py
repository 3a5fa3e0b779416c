"""Record the eval suite (`scenarios/eval/<language>/<task>.yaml`) from the scripted suite model's `right` answers.

Each file is the real agent against `SuiteModel` through the scenario recorder (`source: constructed`), with the
real `run_python` sandbox and `fetch` (its page from the constructed web, kept in the file's `tool_http`), then
replayed as written. `castling eval` uses only the task, tools, system prompt and checks of each file (and its
`tool_http` as the web); `pytest scenarios/` replays the recorded traffic.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from castling.scenarios.format import AgentConfig, Recording, Scenario
from castling.scenarios.live import ServerLive
from castling.scenarios.runner import record, replay
from castling.scenarios.store import load

from .model import SuiteModel, suite_web
from .tasks import LANGUAGES, SYSTEM, TASKS, SuiteTask, suite_expectations

ROOT = Path(__file__).resolve().parent.parent / "eval"
MODEL = "qwen3:8b"
PROVENANCE = "constructed by scenarios/_build_eval_suite.py: SuiteModel's `right` replies, real tools"


def suite_scenario(task: SuiteTask, language: str) -> Scenario:
    """The file's content before recording: task, agent settings and checks."""
    return Scenario(
        id=f"eval-{task.name}-{language}",
        task_id=f"{task.name}-{language}",
        description=task.description,
        tags=["eval", language, task.name, "constructed"],
        task=task.text[language],
        agent=AgentConfig(
            backbone="qwen", model=MODEL, strategy="tools", system=SYSTEM, tools=list(task.tools), max_steps=6
        ),
        recording=Recording(source="constructed", provenance=PROVENANCE),
        expectations=suite_expectations(task, language),
    )


def build(root: Path = ROOT) -> list[Path]:
    """Record and replay every task in every language; the paths written."""
    written = []
    for task in TASKS:
        for language in LANGUAGES:
            path = root / language / f"{task.name}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            live = ServerLive(SuiteModel().transport, httpx.MockTransport(suite_web))
            report = record(suite_scenario(task, language), path, live)
            assert report.saved, f"{path}: {report.message()}"
            check = replay(load(path), path)
            assert check.ok, f"{path}: {check.message()}"
            print(f"{check.status:8} {path.relative_to(root.parent)}")
            written.append(path)
    return written
