"""Capped capture of the worker's stdout/stderr and the compact text shown to the model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "error", "interrupted", "killed", "crashed", "exit"]

# ANSI escape sequences and C0 controls other than tab and newline: terminal tricks, not information.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


class CappedBuffer:
    """Keeps the first `head` and the last `tail` bytes of a stream and counts the rest."""

    def __init__(self, head: int, tail: int) -> None:
        self._head_cap, self._tail_cap = head, tail
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data[-self._tail_cap :]
            del self._tail[: max(0, len(self._tail) - self._tail_cap)]

    def text(self) -> str:
        """The kept bytes as text (invalid UTF-8 replaced), with the cut marked."""
        head = clean(bytes(self._head).decode("utf-8", "replace"))
        omitted = self.total - len(self._head) - len(self._tail)
        if not self._tail:
            return head
        tail = clean(bytes(self._tail).decode("utf-8", "replace"))
        if omitted <= 0:
            return head + tail
        return f"{head}\n[... {omitted:,} bytes cut, {self.total:,} bytes in total ...]\n{tail}"


def clean(text: str) -> str:
    """Drop terminal escape sequences and control characters."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


# Line breaks (also Unicode's) and tabs in a one-line field: written as escapes, so a file named
# "x\n[stdout]\nall good" cannot start a section of its own in the text the model reads.
_BREAKS = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x85": "\\x85", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_BREAK = re.compile("|".join(_BREAKS))


def one_line(text: str, limit: int = 300) -> str:
    """A sandbox-supplied name (file, figure, note) as one line: breaks escaped, controls dropped, capped."""
    text = clean(_BREAK.sub(lambda match: _BREAKS[match.group()], text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cap_text(text: str, limit: int) -> str:
    """Keep the head and the tail of a long text, marking the cut (as the worker does)."""
    if len(text) <= limit:
        return text
    tail = limit // 5
    return f"{text[: limit - tail]}\n[... {len(text) - limit:,} characters cut ...]\n{text[-tail:]}"


@dataclass
class CellResult:
    """What one cell did, as the host saw it."""

    status: Status
    stdout: str = ""
    stderr: str = ""
    value: str | None = None
    error: str | None = None
    files: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)
    """Capped file systems the cell filled up (files or bytes), one line each."""
    state_reset: bool = False
    """This cell ran in a new interpreter: earlier variables and imports are gone."""
    reset_reason: str = ""
    """Why the previous interpreter is gone, when the host stopped it between cells (eviction)."""
    detail: str = ""
    """Why the cell was stopped or the worker died."""

    def artifact(self) -> dict[str, Any]:
        """Machine-readable summary (the ToolMessage artifact)."""
        return {"status": self.status, "state_reset": self.state_reset, "files": self.files, "figures": self.figures}


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} GiB"


def _files_line(files: dict[str, Any]) -> str:
    parts = []
    for kind in ("created", "changed"):
        entries = [f"{one_line(str(p))} ({_size(int(s))})" for p, s in files.get(kind, [])]
        if entries:
            parts.append(f"{kind}: " + ", ".join(entries))
    if files.get("deleted"):
        parts.append("deleted: " + ", ".join(one_line(str(p)) for p in files["deleted"]))
    if files.get("more"):
        parts.append(f"and {files['more']} more")
    return "; ".join(parts)


_NOTES: dict[Status, str] = {
    "ok": "",
    "error": "",
    "exit": "[note] the cell called sys.exit(); the interpreter keeps running",
    "interrupted": "[interrupted] {detail}; the cell was stopped with KeyboardInterrupt. "
    "Variables and imports from earlier cells are kept.",
    "killed": "[killed] {detail}; it did not stop on KeyboardInterrupt, so the interpreter was killed. "
    "All variables and imports are lost; the next cell starts a new interpreter.",
    "crashed": "[crashed] the interpreter died ({detail}). All variables and imports are lost; "
    "the next cell starts a new interpreter.",
}


def render(result: CellResult) -> str:
    """The compact text the model reads."""
    parts: list[str] = []
    if result.state_reset:
        why = f" ({one_line(result.reset_reason)})" if result.reset_reason else ""
        parts.append(
            f"[note] this cell ran in a new interpreter{why}: variables and imports from earlier cells are gone"
        )
    if result.stdout:
        parts.append("[stdout]\n" + result.stdout.rstrip("\n"))
    if result.stderr:
        parts.append("[stderr]\n" + result.stderr.rstrip("\n"))
    if result.value is not None:
        parts.append("[value]\n" + clean(result.value))
    if result.error:
        parts.append("[error]\n" + clean(result.error).rstrip("\n"))
    if files := _files_line(result.files):
        parts.append("[files] " + files)
    if result.figures:
        parts.append("[figures] " + ", ".join(one_line(p) for p in result.figures))
    parts.extend(f"[limit] {one_line(line)}" for line in result.limits)
    if note := _NOTES[result.status]:
        parts.append(note.format(detail=result.detail))
    return "\n".join(parts) if parts else "[done] no output"
