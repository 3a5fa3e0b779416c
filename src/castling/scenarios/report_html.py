"""`castling compare --html`: one self-contained page (inline CSS; no scripts, images, fonts or links).

An overview matrix first (tasks × backbone/model/strategy, so the backbones sit side by side), then one detail
table per configuration with the reasons a task was not solved.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

from castling.scenarios.report import COLUMNS, Row, cells, groups, totals

Config = tuple[str, str, str]

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;margin:2em auto;max-width:72em;
padding:0 1.5em}
h1{font-size:1.7em;margin:0 0 .2em}h2{font-size:1.25em;margin:1.8em 0 .5em}
p.meta{color:#555;margin:.2em 0}p.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em .8em}
table{border-collapse:collapse;margin:.4em 0 1em;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d4da;padding:5px 10px;text-align:left;vertical-align:top}
thead th{background:#eef1f5}tfoot th{background:#f6f7f9}
td.num,th.num{text-align:right}
.ok{color:#11722b;font-weight:600}.bad{color:#b3261e;font-weight:600}
td.cell-ok{background:#eaf6ec}td.cell-bad{background:#fdecea}
.sub{display:block;color:#555;font-size:.85em;font-weight:400}
tr.why td{color:#b3261e;font-size:.9em;border-top:none;background:#fffafa}
""".strip().replace("\n", "")
_NUMERIC = {"steps", "tool calls", "tokens", "model time"}


def compare_html(rows: Sequence[Row], title: str = "castling compare", *, mode: str = "") -> str:
    """The whole report as an HTML document (UTF-8, self-contained)."""
    by_config = groups(rows)
    configs = sorted(by_config)
    tasks = sorted({r.task for r in rows})
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"{len(tasks)} tasks × {len(configs)} configurations · {mode or 'recorded outcomes'} · {generated}"
    parts = [f"<h1>{_e(title)}</h1>", f"<p class='meta'>{_e(meta)}</p>"]
    if any(r.source == "constructed" for r in rows):
        parts.append(
            "<p class='note'>Rows marked <b>constructed</b> replay scripted traffic, not a real model: their "
            "tokens and times show the report, not the models.</p>"
        )
    if not rows:
        parts.append("<p>No agent scenarios found.</p>")
    else:
        parts.append("<h2>Overview</h2>" + _overview(tasks, configs, by_config))
        parts += [_details(config, by_config[config]) for config in configs]
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def _overview(tasks: Sequence[str], configs: Sequence[Config], by_config: dict[Config, list[Row]]) -> str:
    head = "".join(f"<th>{_e(model)}<span class='sub'>{_e(b)} · {_e(s)}</span></th>" for b, model, s in configs)
    body = []
    for task in tasks:
        tds = []
        for config in configs:
            row = next((r for r in by_config[config] if r.task == task), None)
            tds.append("<td>—</td>" if row is None else _overview_cell(row))
        body.append(f"<tr><th>{_e(task)}</th>{''.join(tds)}</tr>")
    foot = []
    for config in configs:
        group = by_config[config]
        solved = sum(r.solved for r in group)
        tokens = sum(r.outcome.prompt_tokens + r.outcome.completion_tokens for r in group)
        seconds = sum(r.outcome.model_ms for r in group) / 1000
        foot.append(f"<th class='num'>{solved}/{len(group)}<span class='sub'>{tokens} tok · {seconds:.2f}s</span></th>")
    return (
        f"<table><thead><tr><th>task</th>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"<tfoot><tr><th>solved</th>{''.join(foot)}</tr></tfoot></table>"
    )


def _overview_cell(row: Row) -> str:
    o = row.outcome
    tokens = o.prompt_tokens + o.completion_tokens
    detail = f"{_n(o.steps, 'step')} · {_n(len(o.tool_calls), 'call')} · {tokens} tok"
    mark = "<span class='ok'>✔ solved</span>" if row.solved else "<span class='bad'>✘ not solved</span>"
    if o.error:  # the run never got an answer: say what stopped it instead of zero counts
        mark, detail = "<span class='bad'>✘ run failed</span>", o.error.split(":", 1)[0]
    why = f" title='{_e('; '.join(row.problems))}'" if row.problems else ""
    return f"<td class='cell-{'ok' if row.solved else 'bad'}'{why}>{mark}<span class='sub'>{_e(detail)}</span></td>"


def _details(config: Config, group: Sequence[Row]) -> str:
    backbone, model, strategy = config
    head = "".join(f"<th{_num(c)}>{_e(c)}</th>" for c in COLUMNS)
    body = []
    for row in sorted(group, key=lambda r: r.task):
        values = cells(row)
        values[1] = "✔" if row.solved else "✘"
        tds = "".join(
            f"<td{_num(c)}>{_e(v)}</td>" if c != "solved" else f"<td class='{'ok' if row.solved else 'bad'}'>{v}</td>"
            for c, v in zip(COLUMNS, values, strict=True)
        )
        body.append(f"<tr>{tds}</tr>")
        if row.problems:
            body.append(f"<tr class='why'><td colspan='{len(COLUMNS)}'>{_e('; '.join(row.problems))}</td></tr>")
    foot = "".join(f"<th{_num(c)}>{_e(v)}</th>" for c, v in zip(COLUMNS, totals(group), strict=True))
    return (
        f"<h2>{_e(model)} <span class='sub'>backbone {_e(backbone)} · strategy {_e(strategy)}</span></h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody><tfoot><tr>{foot}</tr></tfoot></table>"
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _num(column: str) -> str:
    return " class='num'" if column in _NUMERIC else ""


def _e(text: str) -> str:
    return html.escape(text, quote=True)
