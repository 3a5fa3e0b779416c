"""Text written by a model or a tool, made harmless for a terminal: every hidden character is shown as a mark.

A terminal obeys control characters: ESC starts sequences that move the cursor, erase lines or write the clipboard
(OSC 52), a carriage return overprints a line, and bidi overrides reorder what is shown. Model-written code could
then look like `print("hello")` at the approval question while something else runs. So every C0 control except
newline and tab, DEL, every C1 control and the bidi controls become visible marks before the text is printed:
C0 controls and DEL as their Unicode control pictures (ESC → `␛`, CR → `␍`, DEL → `␡`), the others as `<U+202E>`.
A CR directly before a newline is dropped (Windows line ends say nothing hidden).
"""

from __future__ import annotations

import re

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_HIDDEN = (*(c for c in range(0x20) if c not in (0x09, 0x0A)), 0x7F, *range(0x80, 0xA0), *_BIDI)


def _mark(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


_MARKS = {code: _mark(code) for code in _HIDDEN}
_HIDDEN_CHARACTER = re.compile("[" + "".join(re.escape(chr(code)) for code in _HIDDEN) + "]")


def visible(text: str) -> str:
    """`text` with every character a terminal would obey or hide replaced by a visible mark."""
    return text.replace("\r\n", "\n").translate(_MARKS)


def hidden_characters(text: str) -> list[str]:
    """The marks of the hidden characters in `text`, in order (empty if there are none)."""
    return [_MARKS[ord(match.group())] for match in _HIDDEN_CHARACTER.finditer(text.replace("\r\n", "\n"))]


def mark_positions(text: str, tab_size: int = 4) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the marks are in `visible(text).expandtabs(tab_size)`: (line, column) start and end, lines from 1.

    The positions rich's `Syntax.stylize_range` takes, so the marks can stand out in highlighted code.
    """
    positions = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        column = 0
        for character in line:
            mark = _MARKS.get(ord(character))
            if mark is not None:
                positions.append(((number, column), (number, column + len(mark))))
            column += len(mark) if mark else tab_size - column % tab_size if character == "\t" else 1
    return positions
