"""The results journal: one JSON line per finished run, appended and synced, so a killed eval resumes.

A kill can cut the last line short; such a line is ignored (that run is simply done again).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunRecord:
    """The figures of one finished run."""

    key: str
    task: str
    model: str
    backbone: str
    strategy: str
    repeat: int
    passed: bool
    problems: list[str] = field(default_factory=list)
    error_kind: str = ""
    """The error's type when the run failed before an answer (server down, model missing, HTTP 500, …)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_s: float = 0.0
    latency_s: float = 0.0
    """Wall time of the run, model and tools together."""
    tool_calls: int = 0
    steps: int = 0
    host: str = ""
    recorded: str = ""
    """The scenario file this run was saved as (`--record`)."""
    folder: str = ""
    """The name of the folder of the task's file (`ja` for `scenarios/eval/ja/weather.yaml`), for `--by-folder`."""

    @staticmethod
    def from_json(data: dict[str, Any]) -> RunRecord:
        return RunRecord(**{k: v for k, v in data.items() if k in RunRecord.__dataclass_fields__})


class Journal:
    """Append-only JSON lines at `path` (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def read(self) -> dict[str, RunRecord]:
        """The runs already finished, by key (a torn or foreign line is skipped)."""
        if not self.path.exists():
            return {}
        done: dict[str, RunRecord] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = RunRecord.from_json(json.loads(line))
            except (ValueError, TypeError):
                continue
            done[record.key] = record
        return done

    def append(self, record: RunRecord) -> None:
        line = json.dumps(asdict(record), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                if handle.tell() and not self._ends_with_newline():
                    handle.write("\n")  # after a torn line, start clean
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
