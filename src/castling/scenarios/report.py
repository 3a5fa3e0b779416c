"""Result tables: the pytest/replay summary, and `castling compare` in the terminal and as HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from math import comb
from typing import Any

from castling.scenarios.expectations import check_all
from castling.scenarios.format import Outcome, Scenario

_MARK = {"passed": "✔", "failed": "✘ EXP", "diverged": "✘ DIV", "skipped": "– skip", "error": "✘ ERR"}


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Aligned plain-text columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def session_table(reports: Sequence[Any]) -> str:
    """One row per scenario run (a `runner.RunReport`)."""
    rows = []
    for report in reports:
        scenario, outcome = report.scenario, report.outcome
        note = report.note or (report.divergence.kind if report.divergence else "") or "; ".join(report.problems)[:60]
        if report.passes and len(report.passes) > 1:
            note = f"pass^k {pass_hat_k(report.passes)} " + note
        rows.append(
            [
                scenario.id if scenario else report.path.stem,
                scenario.agent.model if scenario else "",
                _MARK.get(report.status, report.status),
                str(outcome.steps) if outcome else "—",
                str(outcome.prompt_tokens + outcome.completion_tokens) if outcome else "—",
                f"{outcome.model_ms / 1000:.1f}s" if outcome else "—",
                note[:80],
            ]
        )
    return table(["scenario", "model", "result", "steps", "tokens", "time*", "note"], rows) + (
        "\n* model time as recorded (replay) or measured (live)"
    )


def pass_hat_k(passes: Sequence[bool]) -> str:
    """pass^1..n for one task from n trials: C(c, k) / C(n, k)."""
    n, c = len(passes), sum(passes)
    return " ".join(f"{comb(c, k) / comb(n, k):.2f}" for k in range(1, n + 1))


@dataclass
class Row:
    """One task under one backbone/model/strategy."""

    task: str
    backbone: str
    model: str
    strategy: str
    source: str
    solved: bool
    outcome: Outcome
    problems: list[str]


def rows_from_recordings(scenarios: Sequence[Scenario]) -> list[Row]:
    """Rows from the recorded outcomes (no model needed)."""
    return [row_for(s, s.outcome) for s in scenarios if s.agent.runner == "agent"]


def row_for(scenario: Scenario, outcome: Outcome) -> Row:
    """The compare row of one scenario's outcome, with its expectations checked."""
    problems = check_all(scenario.expectations, outcome)
    if outcome.error and not any(outcome.error in p for p in problems):  # e.g. Ollama unreachable
        problems.insert(0, f"the run failed: {outcome.error}")
    agent = scenario.agent
    return Row(
        scenario.group,
        agent.backbone,
        agent.model,
        agent.strategy or "default",
        scenario.recording.source,
        not problems,
        outcome,
        problems,
    )


def _groups(rows: Sequence[Row]) -> dict[tuple[str, str, str], list[Row]]:
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.backbone, row.model, row.strategy), []).append(row)
    return groups


_COLUMNS = ["task", "solved", "steps", "tool calls", "tokens", "model time", "source"]


def _cells(row: Row) -> list[str]:
    o = row.outcome
    return [
        row.task,
        "✔" if row.solved else "✘",
        str(o.steps),
        str(len(o.tool_calls)),
        str(o.prompt_tokens + o.completion_tokens),
        f"{o.model_ms / 1000:.2f}s",
        row.source,
    ]


def compare_text(rows: Sequence[Row]) -> str:
    """One table per backbone/model/strategy, with a totals line."""
    parts = []
    for (backbone, model, strategy), group in sorted(_groups(rows).items()):
        body = [_cells(r) for r in sorted(group, key=lambda r: r.task)]
        body.append(_totals(group))
        why = [f"  ✘ {r.task}: {'; '.join(r.problems)}" for r in sorted(group, key=lambda r: r.task) if r.problems]
        parts.append("\n".join([f"{backbone} · {model} · strategy={strategy}", table(_COLUMNS, body), *why]))
    return "\n\n".join(parts) if parts else "no agent scenarios found"


def _totals(group: Sequence[Row]) -> list[str]:
    solved = sum(r.solved for r in group)
    return [
        "TOTAL",
        f"{solved}/{len(group)}",
        str(sum(r.outcome.steps for r in group)),
        str(sum(len(r.outcome.tool_calls) for r in group)),
        str(sum(r.outcome.prompt_tokens + r.outcome.completion_tokens for r in group)),
        f"{sum(r.outcome.model_ms for r in group) / 1000:.2f}s",
        "",
    ]


def compare_html(rows: Sequence[Row], title: str = "castling compare") -> str:
    """A self-contained HTML report (inline CSS, no scripts, no external assets)."""
    sections = []
    for (backbone, model, strategy), group in sorted(_groups(rows).items()):
        body = "".join(
            "<tr class='{}'>{}</tr>".format(
                "ok" if r.solved else "bad",
                "".join(f"<td>{html.escape(c)}</td>" for c in _cells(r)),
            )
            + (f"<tr class='why'><td colspan='7'>{html.escape('; '.join(r.problems))}</td></tr>" if r.problems else "")
            for r in sorted(group, key=lambda r: r.task)
        )
        totals = "".join(f"<th>{html.escape(c)}</th>" for c in _totals(group))
        head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
        sections.append(
            f"<h2>{html.escape(backbone)} · {html.escape(model)} · strategy={html.escape(strategy)}</h2>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody><tfoot><tr>{totals}</tr></tfoot></table>"
        )
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}tr.ok td:nth-child(2){color:#070}"
        "tr.bad td:nth-child(2){color:#b00}tr.why td{color:#b00;font-size:90%}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>\n"
    )
