"""Streamed Markdown without flicker: settled lines are printed once, only a short tail is repainted.

Every update renders the whole text off-screen to ANSI lines. Lines above the last `tail` are considered
settled and go to the normal scrollback exactly once; the tail is erased and redrawn with plain cursor moves (no
full-screen `Live`, which misbehaves in tmux and with content taller than the terminal). Updates are throttled
to about ten times the render cost, between 1/20 s and 1 s.

The width is read at every render, so a terminal resized mid-reply is followed. What the terminal shows then is
left alone (a terminal that reflows has moved it in ways the cursor cannot follow: tmux pushes rows into the
scrollback, where no cursor move reaches), and the rendering at the new width goes on from the first character not
shown yet (matched by the text without blanks), so nothing is printed twice or lost.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Markdown
from rich.syntax import Syntax
from rich.text import Text

TAIL = 6
MIN_INTERVAL = 1 / 20
MAX_INTERVAL = 1.0
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class PlainCodeBlock(CodeBlock):
    """A code block without background colour (copy and paste stay clean), under a dim language label."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.lexer_name != "text":
            yield Text(self.lexer_name, style="dim")
        code = str(self.text).rstrip()
        yield Syntax(code, self.lexer_name, theme=self.theme, word_wrap=True, background_color="default")


class ChatMarkdown(Markdown):
    """rich's Markdown with `PlainCodeBlock` for fenced and indented code."""

    elements = {**Markdown.elements, "fence": PlainCodeBlock, "code_block": PlainCodeBlock}


def render_lines(text: str, width: int) -> list[str]:
    """`text` rendered as Markdown into ANSI-styled lines `width` columns wide."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="256", width=width, legacy_windows=False)
    console.print(ChatMarkdown(text, code_theme="monokai", inline_code_theme="monokai"), end="")
    return [line.rstrip(" ") for line in buffer.getvalue().split("\n")]


def plain(line: str) -> str:
    """A rendered line without its styles."""
    return _ANSI.sub("", line)


def _letters(line: str) -> str:
    """The line's text without styles and blanks: what stays the same at any width."""
    return "".join(plain(line).split())


def settled_count(lines: list[str], settled: str) -> tuple[int, int]:
    """Where the settled text ends in `lines` (a new rendering): whole lines, then non-blank characters of the next.

    Matched by the text without blanks, since the line breaks differ at another width.
    """
    target, seen = len(settled), 0
    for count, line in enumerate(lines):
        size = len(_letters(line))
        if seen + size > target:
            return count, target - seen
        seen += size
    return len(lines), 0


def after(line: str, skip: int) -> str:
    """The plain text of `line` after its first `skip` non-blank characters (the rest of a half-settled line)."""
    text = plain(line)
    for position, char in enumerate(text):
        if skip <= 0:
            return text[position:].lstrip()
        skip -= not char.isspace()
    return ""


class MarkdownStream:
    """One streamed answer rendered as Markdown into a terminal."""

    def __init__(
        self,
        out: TextIO,
        width: int | Callable[[], int],
        *,
        tail: int = TAIL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.width: Callable[[], int] = width if callable(width) else (lambda: width)
        """Read at every render: the terminal may be resized mid-reply."""
        self.tail = tail
        self.clock = clock
        self.printed = 0
        """Settled lines already in the scrollback."""
        self.live: list[str] = []
        """Lines of the repaintable tail currently on screen."""
        self.settled = ""
        """The text (without blanks) of the settled lines, to find them again in a rendering at another width."""
        self.rendered_width = 0
        self.cut: tuple[int, int] | None = None
        """After a resize, the line that was partly shown already and how many of its characters to leave out."""
        self.interval = MIN_INTERVAL
        self.last_update = float("-inf")
        self.text = ""

    def update(self, text: str, *, final: bool = False) -> None:
        """Show `text` (the whole answer so far); `final` settles everything."""
        self.text = text
        now = self.clock()
        if not final and now - self.last_update < self.interval:
            return
        started = time.perf_counter()
        width = self.width()
        lines = render_lines(text, width)
        while lines and not lines[-1].strip():
            lines.pop()
        self.interval = min(MAX_INTERVAL, max(MIN_INTERVAL, 10 * (time.perf_counter() - started)))
        self.last_update = now
        if width != self.rendered_width and (self.printed or self.live):
            self._resized(lines)
        self.rendered_width = width
        if self.cut is not None and self.cut[0] < len(lines):
            lines[self.cut[0]] = after(lines[self.cut[0]], self.cut[1])
        stable = len(lines) if final else max(self.printed, len(lines) - self.tail)
        parts = [f"\x1b[{len(self.live)}F\x1b[J"] if self.live else []
        settling = lines[self.printed : stable]
        parts += [line + "\n" for line in settling]
        self.settled += "".join(_letters(line) for line in settling)
        self.live = lines[stable:]
        parts += [line + "\n" for line in self.live]
        self.printed = stable
        self.out.write("".join(parts))
        self.out.flush()

    def _resized(self, lines: list[str]) -> None:
        """The terminal changed width: what it shows stays, and `lines` (the new rendering) go on after it.

        Nothing is erased: a terminal that reflows may have moved the old tail where no cursor move reaches.
        """
        self.settled += "".join(_letters(line) for line in self.live)
        self.live = []
        self.printed, skip = settled_count(lines, self.settled)
        self.cut = (self.printed, skip) if skip else None

    def finish(self) -> None:
        """Render the final text and leave everything in the scrollback."""
        if self.text:
            self.update(self.text, final=True)
        self.live = []
