"""Clean untrusted text before the model sees it.

Everything a server controls (body, title, reason phrase, content type, URLs) goes through here: bodies lose
control characters, terminal escapes and bidi overrides and get plain newline line ends; header values become one line;
and no copy of the frame markers (`[untrusted web content ...`, `[end of untrusted web content]`) survives, also
not spelled with look-alike letters, full-width forms or zero-width characters, so a page cannot appear to close
its frame and speak as the tool.
"""

from __future__ import annotations

import re

# OSC (window title, hyperlinks) up to BEL or ST, bounded so an unterminated one cannot swallow the page; then CSI
# sequences; then the other two-character escapes.
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b\n]{0,512}(?:\x07|\x1b\\)?|\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
# C0 controls but \t and \n, DEL, C1 controls, and the bidi controls that reorder how text is displayed.
_DROP = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("\r\n?|[\x85\u2028\u2029]")
_SPACES = re.compile(r"\s+")
# Characters a reader does not see, allowed between the letters of a marker when looking for one.
_INVISIBLE = "[\u00ad\u180e\u200b-\u200d\u2060\ufeff]*"
_LOOKALIKES = {
    "a": "\u0430\u0251\u03b1",
    "c": "\u0441\u03f2",
    "d": "\u0501",
    "e": "\u0435\u04bd",
    "i": "\u0456\u03b9\u0131",
    "n": "\u0578\u0572",
    "o": "\u043e\u03bf\u0585",
    "r": "\u0433",
    "s": "\u0455",
    "t": "\u0442",
    "u": "\u03c5\u057d",
    "w": "\u0461\u051d",
    "b": "\u042c\u044c",
    "f": "\u0192",
}
QUOTED = "(quoted) "


def _letter(char: str) -> str:
    if char == " ":
        return rf"[\s_\-{_INVISIBLE[1:-2]}]+"
    wide = chr(ord(char) + 0xFEE0) + chr(ord(char.upper()) + 0xFEE0)  # full-width forms
    return f"[{char}{wide}{_LOOKALIKES.get(char, '')}]{_INVISIBLE}"


def _phrase(text: str) -> str:
    return "".join(_letter(char) for char in text)


# An optional opening bracket of any kind, then "end of untrusted web content" or "untrusted web content".
_MARKER = re.compile(
    rf"(?<!{re.escape(QUOTED)})(?<!{re.escape(QUOTED)}end of )"
    rf"(?:[\[\(\{{<\uff08\uff3b\u3010\u3014\u3016\u27e6\u27e8\u00ab]\s*)?"
    rf"(?P<end>{_phrase('end of ')})?{_phrase('untrusted web content')}",
    re.IGNORECASE,
)


def neutralize_markers(text: str) -> str:
    """Rewrite anything that reads like a frame marker to `(quoted) [end of ]untrusted web content`."""

    def quote(match: re.Match[str]) -> str:
        return QUOTED + ("end of " if match.group("end") else "") + "untrusted web content"

    return _MARKER.sub(quote, text)


def clean_body(text: str) -> str:
    """Drop terminal escapes, control characters (but newline and tab) and bidi overrides; newlines end lines."""
    text = _LINE_BREAKS.sub("\n", text)
    return _DROP.sub("", _ESCAPES.sub("", text))


def one_line(value: str, limit: int = 1000) -> str:
    """A server-controlled value for a header line: cleaned, whitespace collapsed, markers quoted, capped."""
    line = _SPACES.sub(" ", clean_body(value)).strip()
    line = neutralize_markers(line)
    return line if len(line) <= limit else line[: limit - 1] + "…"
