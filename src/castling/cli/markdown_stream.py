"""Streamed Markdown without flicker: settled lines are printed once, only a short tail is repainted.

Every update renders the whole text off-screen to ANSI lines. Lines above the last `tail` are considered
settled and go to the normal scrollback exactly once; the tail is erased and redrawn with plain cursor moves (no
full-screen `Live`, which misbehaves in tmux and with content taller than the terminal). Updates are throttled
to about ten times the render cost, between 1/20 s and 1 s.
"""

from __future__ import annotations

import io
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
    return buffer.getvalue().split("\n")


class MarkdownStream:
    """One streamed answer rendered as Markdown into a terminal."""

    def __init__(
        self, out: TextIO, width: int, *, tail: int = TAIL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.out = out
        self.width = width
        self.tail = tail
        self.clock = clock
        self.printed = 0
        """Settled lines already in the scrollback."""
        self.live = 0
        """Lines of the repaintable tail currently on screen."""
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
        lines = render_lines(text, self.width)
        while lines and not lines[-1].strip():
            lines.pop()
        self.interval = min(MAX_INTERVAL, max(MIN_INTERVAL, 10 * (time.perf_counter() - started)))
        self.last_update = now
        stable = len(lines) if final else max(self.printed, len(lines) - self.tail)
        parts = [f"\x1b[{self.live}F\x1b[J"] if self.live else []
        parts += [line + "\n" for line in lines[self.printed : stable]]
        live = lines[stable:]
        parts += [line + "\n" for line in live]
        self.printed, self.live = stable, len(live)
        self.out.write("".join(parts))
        self.out.flush()

    def finish(self) -> None:
        """Render the final text and leave everything in the scrollback."""
        if self.text:
            self.update(self.text, final=True)
        self.live = 0
