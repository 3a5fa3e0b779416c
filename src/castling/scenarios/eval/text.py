"""The terminal side of `castling eval`: a progress line per finished run and the final table."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

from castling.scenarios.eval.journal import RunRecord
from castling.scenarios.report import table

_BAR = 24
COLUMNS = ["task", "model · backbone · strategy", "passed", "rate", "95% CI", "tokens/run", "p50", "p95", "errors"]


class Progress:
    """`[#####-----] 5/12 ✔ task · model · strategy #2 1.20s` on stderr, one line per finished run."""

    def __init__(self, total: int, done: int = 0, stream: TextIO | None = None) -> None:
        self.total, self.done = total, done
        self.stream = stream or sys.stderr

    def __call__(self, record: RunRecord) -> None:
        self.done += 1
        filled = round(_BAR * self.done / max(1, self.total))
        mark = "✔" if record.passed else f"✘ {record.error_kind}" if record.error_kind else "✘"
        self.stream.write(
            f"[{'#' * filled}{'-' * (_BAR - filled)}] {self.done}/{self.total} {mark} {record.task} · "
            f"{record.model} · {record.strategy} #{record.repeat} {record.latency_s:.2f}s\n"
        )
        self.stream.flush()


def row_cells(row: dict[str, Any]) -> list[str]:
    """The table cells of one result row, in `COLUMNS` order."""
    errors = ", ".join(f"{kind} ×{count}" for kind, count in row["errors"].items())
    low, high = row["ci95"]
    return [
        "ALL" if row["task"] == "*" else row["task"],
        f"{row['model']} · {row['backbone']} · {row['strategy']}",
        f"{row['passed']}/{row['runs']}",
        f"{row['pass_rate']:.0%}",
        f"{low:.2f}–{high:.2f}",
        number(row["tokens"]["per_run"]),
        f"{row['latency_s']['p50']:.2f}s",
        f"{row['latency_s']['p95']:.2f}s",
        errors or "—",
    ]


def number(value: float) -> str:
    """`37.5`, `30`, `123456` (never `1.23e+05`, which `:g` gives for large token counts)."""
    return f"{value:.1f}".removesuffix(".0")


def final_table(results: Sequence[dict[str, Any]], overall: Sequence[dict[str, Any]]) -> str:
    """Per task and configuration, then one ALL line per configuration."""
    ordered = sorted(results, key=lambda r: (r["task"], r["model"], r["backbone"], r["strategy"]))
    return table(COLUMNS, [row_cells(r) for r in [*ordered, *overall]])
