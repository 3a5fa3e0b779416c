"""Figures per configuration and task, and overall per configuration, from the run records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from castling.scenarios.eval.journal import RunRecord
from castling.scenarios.eval.stats import percentile, wilson

ALL_TASKS = "*"
"""The `task` of a configuration's overall figures."""


def figures(records: Sequence[RunRecord], task: str) -> dict[str, Any]:
    """One result row of `records` (one configuration, `task` or all tasks).

    The names `--json` promises (`task, model, backbone, strategy, runs, passed, pass_rate, ci95, tokens,
    latency_s`), plus model time, tool calls, steps, failures (answered but expectations missed) and errors by kind.
    """
    first = records[0]
    runs = len(records)
    passed = sum(r.passed for r in records)
    latencies = [r.latency_s for r in records]
    prompt = sum(r.prompt_tokens for r in records)
    completion = sum(r.completion_tokens for r in records)
    low, high = wilson(passed, runs)
    return {
        "task": task,
        "model": first.model,
        "backbone": first.backbone,
        "strategy": first.strategy,
        "runs": runs,
        "passed": passed,
        "pass_rate": round(passed / runs, 4) if runs else 0.0,
        "ci95": [low, high],
        "tokens": {"prompt": prompt, "completion": completion, "per_run": round((prompt + completion) / runs, 1)},
        "latency_s": {
            "p50": round(percentile(latencies, 50), 4),
            "p95": round(percentile(latencies, 95), 4),
            "mean": round(sum(latencies) / runs, 4),
        },
        "model_s": round(sum(r.model_s for r in records), 4),
        "tool_calls": sum(r.tool_calls for r in records),
        "steps": sum(r.steps for r in records),
        "failed": sum(not r.passed and not r.error_kind for r in records),
        "errors": dict(sorted(Counter(r.error_kind for r in records if r.error_kind).items())),
    }


ConfigKey = tuple[str, str, str]


def _config(record: RunRecord) -> ConfigKey:
    return record.model, record.backbone, record.strategy


def results(records: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """One row per configuration and task, in the order the configurations and tasks first appear."""
    grouped: dict[tuple[ConfigKey, str], list[RunRecord]] = {}
    for record in records:
        grouped.setdefault((_config(record), record.task), []).append(record)
    return [figures(group, task) for (_, task), group in grouped.items()]


def overall(records: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """One row per configuration over all its tasks (`task` is `*`)."""
    grouped: dict[ConfigKey, list[RunRecord]] = {}
    for record in records:
        grouped.setdefault(_config(record), []).append(record)
    return [figures(group, ALL_TASKS) for group in grouped.values()]


def by_folder(records: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """One row per configuration and folder of the task files (`task` is `<folder>/*`), folders in order seen.

    The eval suite keeps one folder per language, so this is its per-language summary.
    """
    grouped: dict[tuple[str, ConfigKey], list[RunRecord]] = {}
    for record in records:
        grouped.setdefault((record.folder, _config(record)), []).append(record)
    return [figures(group, f"{folder or '.'}/*") for (folder, _), group in grouped.items()]
