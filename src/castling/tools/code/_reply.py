"""The worker's reply frame turned into a CellResult, trusting nothing about it.

A cell runs in the worker's process, so it can write a reply frame itself (it can read the request id out of
memory): every field is re-checked and re-capped here as if the sandbox wrote it, because it may have.
"""

from __future__ import annotations

from typing import Any

from ._output import CellResult, Status, cap_text, one_line

MAX_VALUE = 20_000
"""Characters kept of the value and of the traceback (the worker caps them too, a forged frame does not)."""
MAX_ENTRIES = 50
"""File names kept per list (created, changed, deleted) and figure paths kept."""
MAX_NAME = 300
"""Characters kept of one file name, figure path or limit note."""


def from_reply(frame: dict[str, Any], reason: str) -> CellResult:
    """Turn the worker's reply into a result with every field checked, capped and (for names) one line."""
    status: Status = "error"
    for known in ("ok", "interrupted", "exit"):
        if frame.get("status") == known:
            status = known
    value, error = _text(frame.get("value")), _text(frame.get("error"))
    if (figure_error := _text(frame.get("figure_error"), 2000)) is not None:
        error = f"{error or ''}\nsaving the open matplotlib figures failed: {figure_error}".lstrip("\n")
    return CellResult(
        status,
        value=value,
        error=error,
        files=_files(frame.get("files")),
        figures=_names(frame.get("figures")),
        limits=_names(frame.get("limits"))[:5],
        detail=(reason or "the cell was interrupted") if status == "interrupted" else "",
    )


def _text(value: object, limit: int = MAX_VALUE) -> str | None:
    return cap_text(value, limit) if isinstance(value, str) else None


def _names(items: object) -> list[str]:
    if not isinstance(items, list):
        return []
    return [one_line(str(item), MAX_NAME) for item in items[:MAX_ENTRIES]]


def _sized(items: object) -> list[list[Any]]:
    """[[name, size], ...] with a one-line name and a non-negative int size; malformed entries are dropped."""
    if not isinstance(items, list):
        return []
    entries: list[list[Any]] = []
    for item in items[:MAX_ENTRIES]:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[1], int) and item[1] >= 0:
            entries.append([one_line(str(item[0]), MAX_NAME), item[1]])
    return entries


def _files(files: object) -> dict[str, Any]:
    if not isinstance(files, dict):
        return {}
    more = files.get("more")
    return {
        "created": _sized(files.get("created")),
        "changed": _sized(files.get("changed")),
        "deleted": _names(files.get("deleted")),
        "more": more if isinstance(more, int) and 0 <= more < 10**9 else 0,
    }
