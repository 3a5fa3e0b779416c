"""Result tables: the pytest/replay summary, and `castling compare` in the terminal (HTML: `report_html`)."""

from __future__ import annotations

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


SESSION_COLUMNS = ["scenario", "model", "result", "steps", "tokens", "time*", "note"]


def session_table(reports: Sequence[Any]) -> str:
    """One row per scenario run (a `runner.RunReport`)."""
    return session_table_of_rows([session_row(report) for report in reports])


def session_table_of_rows(rows: Sequence[list[str]]) -> str:
    """The table of `session_row`s (rows may come from other processes: pytest-xdist workers)."""
    return table(SESSION_COLUMNS, list(rows)) + "\n* model time as recorded (replay) or measured (live)"


def session_row(report: Any) -> list[str]:
    """The cells of one scenario run, as plain strings."""
    scenario, outcome = report.scenario, report.outcome
    note = report.note or (report.divergence.kind if report.divergence else "") or "; ".join(report.problems)[:60]
    if report.passes and len(report.passes) > 1:
        note = f"pass^k {pass_hat_k(report.passes)} " + note
    return [
        scenario.id if scenario else report.path.stem,
        scenario.agent.model if scenario else "",
        _MARK.get(report.status, report.status),
        str(outcome.steps) if outcome else "—",
        str(outcome.prompt_tokens + outcome.completion_tokens) if outcome else "—",
        f"{outcome.model_ms / 1000:.1f}s" if outcome else "—",
        note[:80],
    ]


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


def comparable(scenario: Scenario) -> bool:
    """An agent task: not a wire-only file (it checks the client) nor a discovery one (it checks `/api/tags`)."""
    return scenario.agent.runner == "agent" and "discovery" not in scenario.tags


def left_out(scenarios: Sequence[Scenario]) -> str:
    """A note naming the scenarios `compare` leaves out, and why ("" when none)."""
    wire = sorted(s.id for s in scenarios if s.agent.runner != "agent")
    discovery = sorted(s.id for s in scenarios if s.agent.runner == "agent" and not comparable(s))
    notes = [f"{len(wire)} wire-only (they check the client, not an agent): {', '.join(wire)}"] if wire else []
    notes += [f"{len(discovery)} discovery (model listing, not a task): {', '.join(discovery)}"] if discovery else []
    return f"not compared: {'; '.join(notes)}" if notes else ""


def rows_from_recordings(scenarios: Sequence[Scenario]) -> list[Row]:
    """Rows from the recorded outcomes (no model needed)."""
    return [row_for(s, s.outcome) for s in scenarios if comparable(s)]


def row_for(scenario: Scenario, outcome: Outcome) -> Row:
    """The compare row of one scenario's outcome, with its expectations checked."""
    problems = check_all(scenario.expectations, outcome)
    if outcome.error:  # e.g. Ollama unreachable: the unmet expectations would only repeat it
        problems = [f"the run failed: {outcome.error}"]
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


def groups(rows: Sequence[Row]) -> dict[tuple[str, str, str], list[Row]]:
    """Rows by (backbone, model, strategy)."""
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.backbone, row.model, row.strategy), []).append(row)
    return groups


COLUMNS = ["task", "solved", "steps", "tool calls", "tokens", "model time", "source"]


def cells(row: Row) -> list[str]:
    """The text cells of one row, in `COLUMNS` order."""
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
    for (backbone, model, strategy), group in sorted(groups(rows).items()):
        body = [cells(r) for r in sorted(group, key=lambda r: r.task)]
        body.append(totals(group))
        why = [f"  ✘ {r.task}: {'; '.join(r.problems)}" for r in sorted(group, key=lambda r: r.task) if r.problems]
        parts.append("\n".join([f"{backbone} · {model} · strategy={strategy}", table(COLUMNS, body), *why]))
    return "\n\n".join(parts) if parts else "no agent scenarios found"


def totals(group: Sequence[Row]) -> list[str]:
    """The TOTAL line of one configuration's table."""
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
