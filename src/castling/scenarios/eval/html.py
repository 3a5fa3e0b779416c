"""`castling eval --html`: one self-contained page, inline CSS and SVG (no scripts, images, fonts or links).

Two charts — pass rate per configuration with its Wilson 95 % whiskers, and tokens per run against pass rate —
then the table per task and configuration.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from castling.scenarios.eval.text import COLUMNS, number, row_cells

_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;color:#1d1d1f;margin:2em auto;max-width:72em;padding:0 1.5em}"
    "h1{font-size:1.7em;margin:0 0 .2em}h2{font-size:1.25em;margin:1.8em 0 .5em}p.meta{color:#555}"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
    "th,td{border:1px solid #d0d4da;padding:5px 10px;text-align:left}thead th{background:#eef1f5}"
    "tr.all td{background:#f6f7f9;font-weight:600}svg text{font:12px system-ui,sans-serif;fill:#1d1d1f}"
)
_COLOURS = ["#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477", "#66aa00"]
_e = html.escape


def eval_html(results: Sequence[dict[str, Any]], overall: Sequence[dict[str, Any]], *, meta: str = "") -> str:
    """The whole report as an HTML document."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = sorted(results, key=lambda r: (r["task"], r["model"], r["backbone"], r["strategy"]))
    body = "".join(f"<tr>{_tds(r)}</tr>" for r in rows) + "".join(f"<tr class='all'>{_tds(r)}</tr>" for r in overall)
    head = "".join(f"<th>{_e(c)}</th>" for c in COLUMNS)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>castling eval</title>"
        f"<style>{_STYLE}</style></head><body><h1>castling eval</h1>"
        f"<p class='meta'>{_e(meta)} · {generated}</p>"
        f"<h2>Pass rate per configuration (95% Wilson interval)</h2>{pass_rate_chart(overall)}"
        f"<h2>Tokens per run vs pass rate</h2>{tokens_chart(overall)}"
        f"<h2>Per task</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "</body></html>\n"
    )


def _tds(row: dict[str, Any]) -> str:
    return "".join(f"<td>{_e(cell)}</td>" for cell in row_cells(row))


def _label(row: dict[str, Any]) -> str:
    return f"{row['model']} · {row['backbone']} · {row['strategy']}"


def pass_rate_chart(overall: Sequence[dict[str, Any]]) -> str:
    """Horizontal bars (pass rate) with whiskers from the interval's low to high end."""
    left, width, bar, gap = 260, 420, 18, 12
    height = 30 + len(overall) * (bar + gap)
    parts = [f"<svg width='{left + width + 80}' height='{height}' role='img'>"]
    for tick in (0, 25, 50, 75, 100):
        x = left + width * tick / 100
        parts.append(f"<line x1='{x}' y1='10' x2='{x}' y2='{height - 16}' stroke='#ddd'/>")
        parts.append(f"<text x='{x}' y='{height - 2}' text-anchor='middle'>{tick}%</text>")
    for i, row in enumerate(overall):
        y = 14 + i * (bar + gap)
        low, high = row["ci95"]
        colour = _COLOURS[i % len(_COLOURS)]
        mid = y + bar / 2
        parts += [
            f"<text x='{left - 8}' y='{mid + 4}' text-anchor='end'>{_e(_label(row))}</text>",
            f"<rect class='rate' x='{left}' y='{y}' width='{width * row['pass_rate']:.1f}' height='{bar}' "
            f"fill='{colour}' opacity='.75'><title>{row['passed']}/{row['runs']}</title></rect>",
            f"<line class='whisker' x1='{left + width * low:.1f}' y1='{mid}' x2='{left + width * high:.1f}' "
            f"y2='{mid}' stroke='#111' stroke-width='2'/>",
            f"<line x1='{left + width * low:.1f}' y1='{y + 3}' x2='{left + width * low:.1f}' y2='{y + bar - 3}' "
            "stroke='#111' stroke-width='2'/>",
            f"<line x1='{left + width * high:.1f}' y1='{y + 3}' x2='{left + width * high:.1f}' y2='{y + bar - 3}' "
            "stroke='#111' stroke-width='2'/>",
            f"<text x='{left + width + 8}' y='{mid + 4}'>{row['pass_rate']:.0%} ({row['passed']}/{row['runs']})</text>",
        ]
    return "".join(parts) + "</svg>"


def tokens_chart(overall: Sequence[dict[str, Any]]) -> str:
    """One point per configuration: tokens per run (x) against pass rate (y), with the interval as a whisker."""
    left, top, width, height = 60, 14, 460, 260
    most = max([r["tokens"]["per_run"] for r in overall] + [1.0])
    parts = [
        f"<svg width='{left + width + 260}' height='{top + height + 40}' role='img'>",
        f"<rect x='{left}' y='{top}' width='{width}' height='{height}' fill='none' stroke='#bbb'/>",
        f"<text x='{left + width / 2}' y='{top + height + 32}' text-anchor='middle'>"
        f"tokens per run (0–{number(most)})</text>",
    ]
    for tick in (0, 50, 100):
        y = top + height * (1 - tick / 100)
        parts.append(f"<text x='{left - 6}' y='{y + 4}' text-anchor='end'>{tick}%</text>")
    for i, row in enumerate(overall):
        colour = _COLOURS[i % len(_COLOURS)]
        x = left + width * row["tokens"]["per_run"] / most
        low, high = row["ci95"]
        y, y_low, y_high = (top + height * (1 - v) for v in (row["pass_rate"], low, high))
        parts += [
            f"<line x1='{x:.1f}' y1='{y_low:.1f}' x2='{x:.1f}' y2='{y_high:.1f}' stroke='{colour}' stroke-width='2'/>",
            f"<circle class='point' cx='{x:.1f}' cy='{y:.1f}' r='5' fill='{colour}'><title>{_e(_label(row))}: "
            f"{number(row['tokens']['per_run'])} tokens/run, {row['pass_rate']:.0%}</title></circle>",
            f"<rect x='{left + width + 16}' y='{top + i * 18}' width='10' height='10' fill='{colour}'/>",
            f"<text x='{left + width + 32}' y='{top + i * 18 + 9}'>{_e(_label(row))}</text>",
        ]
    return "".join(parts) + "</svg>"
