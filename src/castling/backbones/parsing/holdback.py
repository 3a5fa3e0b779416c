"""Streamed text that may be a tool call is held back until it is known not to be one.

Small models often write a call into the text (`{"name": …}`, `<tool_call>…</tool_call>`, `<|python_tag|>…`)
and the parsers recover it after the reply is whole. Streamed as it arrives, that markup would show as the
answer before the tool line replaces it. So: text that opens like a call is held; as soon as it cannot be one it
is let through; at the end of the reply the held text is either dropped (a call was recovered from it: the
reply's remaining text is sent instead) or sent.
"""

from __future__ import annotations

from castling.backbones.wire import DeltaKind, OnDelta

TAG_OPENINGS = ("<tool_call>", "<function=", "<|python_tag|>")
"""Openings of a call anywhere in a reply."""
START_OPENINGS = ("{", "[", "```", *TAG_OPENINGS)
"""Openings of a call at the start of a reply only (bare or fenced JSON are recovered only as the whole reply)."""


class HeldText:
    """An `OnDelta` wrapper: passes thinking on, holds text that may be a call; `finish` ends the reply."""

    def __init__(self, emit: OnDelta) -> None:
        self.emit = emit
        self.held = ""
        self.sent = ""

    def __call__(self, kind: DeltaKind, text: str) -> None:
        if kind != "text":
            self.emit(kind, text)
            return
        self.held += text
        cut = self._safe_length()
        if cut:
            self._send(self.held[:cut])
            self.held = self.held[cut:]

    def finish(self, text: str, *, recovered: bool) -> None:
        """The reply is whole: `text` is what remains of it once recovered calls were taken out."""
        if recovered:
            rest = text[len(self.sent) :] if text.startswith(self.sent) else ""
        else:
            rest = self.held
        self.held = ""
        if rest:
            self._send(rest)

    def _send(self, text: str) -> None:
        self.sent += text
        self.emit("text", text)

    def _safe_length(self) -> int:
        """How much of the held text can be sent: all of it up to where a call may begin."""
        if not self.sent.strip():
            start = self.held.lstrip()
            if not start or _may_open(start, START_OPENINGS):
                return 0
        return _first_possible_tag(self.held)


def _may_open(text: str, openings: tuple[str, ...]) -> bool:
    """Whether `text` starts with one of `openings`, or is the beginning of one."""
    return any(text.startswith(o) or o.startswith(text) for o in openings)


def _first_possible_tag(text: str) -> int:
    """The index where a tagged call may begin in `text` (its length if nowhere)."""
    index = text.find("<")
    while index != -1:
        if _may_open(text[index:], TAG_OPENINGS):
            return index
        index = text.find("<", index + 1)
    return len(text)
