"""What the chat prints: answers, thinking, tool calls, footers, errors; styled on a terminal, plain otherwise.

Every text that reaches the terminal through `Screen` passes `safe_text.visible` first (model answers and thinking,
tool calls and results, errors quoting them, code at the approval question): control characters and bidi overrides
are shown as marks, never obeyed. Only the styles `Screen` adds itself are escape sequences.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from typing import Any, TextIO

from castling.backbones.usage import Usage
from castling.cli.markdown_stream import MarkdownStream
from castling.cli.safe_text import hidden_characters, mark_positions, visible

DIM, BOLD, RED, YELLOW, CYAN, RESET = "\x1b[2m", "\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[36m", "\x1b[0m"
MARK_STYLE = "bold white on red"
"""How a hidden character's mark stands out in code at the approval question."""
ONE_LINE = 100
TAB_SIZE = 4


def wants_style(out: TextIO, plain: bool = False) -> bool:
    """Style only a terminal, and never with `--plain` or `NO_COLOR` set."""
    return not plain and not os.environ.get("NO_COLOR") and out.isatty()


class Screen:
    """The chat's output: one streamed block at a time (thinking or answer), plus one-line notices."""

    def __init__(self, out: TextIO | None = None, *, styled: bool | None = None, width: int | None = None) -> None:
        self.out = out or sys.stdout
        self.styled = wants_style(self.out) if styled is None else styled
        self.width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
        self._block: str | None = None
        self._text = ""
        self._stream: MarkdownStream | None = None
        self._line_open = False
        self._last_result = ""

    # -- streamed blocks -------------------------------------------------------------------------------------
    def thinking(self, piece: str) -> None:
        """A piece of thinking: dim, apart from the answer."""
        if self._block != "thinking":
            self.end_block()
            self._block = "thinking"
            self._write(self._style(DIM, "Thinking…\n") if self.styled else "Thinking...\n")
        piece = visible(piece)
        self._write(self._style(DIM, piece))
        self._line_open = not piece.endswith("\n")

    def text(self, piece: str) -> None:
        """A piece of the answer: streamed Markdown on a terminal, raw text otherwise."""
        if self._block != "text":
            self.end_block()
            self._block = "text"
            self._text = ""
            self._stream = MarkdownStream(self.out, self.width) if self.styled else None
        piece = visible(piece)
        self._text += piece
        if self._stream is not None:
            self._stream.update(self._text)
        else:
            self._write(piece)
            self._line_open = not piece.endswith("\n")

    def end_block(self) -> None:
        """Settle the current block (final Markdown render, closing newline) before printing anything else."""
        if self._block == "thinking":
            self._close_line()
            self._write(self._style(DIM, "…done thinking.\n\n") if self.styled else "...done thinking.\n\n")
        elif self._stream is not None:
            self._stream.finish()
        self._close_line()
        self._block, self._stream = None, None

    # -- one-liners ------------------------------------------------------------------------------------------
    def tool_call(self, name: str, arguments: dict[str, Any]) -> None:
        """`⚙ name(args)` on one line, before the tool runs."""
        self.end_block()
        self.line(f"⚙ {name}({_brief(_arguments(arguments))})", CYAN)

    def tool_result(self, name: str, result: str, error: str | None, verbose: bool) -> None:
        """The result in one line (or whole, on `/verbose`)."""
        self.end_block()
        self._last_result = result.strip()
        lines = result.strip().splitlines() or [""]
        if verbose:
            self.line(f"  ↳ {name}:", RED if error else DIM)
            self._write("".join(f"    {visible(line)}\n" for line in lines))
            return
        headline = _headline(lines)
        more = f"  (+{len(lines) - 1} lines, /verbose shows all)" if len(lines) > 1 else ""
        self.line(f"  ↳ {_brief(headline)}{more}", RED if error else DIM)

    def plan_event(self, event: Any) -> bool:
        """Show an event of the plan strategy (plan made or revised, step started or finished); False if not one."""
        kind = getattr(event, "kind", "")
        if kind in ("plan_created", "plan_revised"):
            self.end_block()
            title = "Plan" if kind == "plan_created" else f"Plan revised (#{getattr(event, 'revision', '?')})"
            reason = getattr(event, "reason", "")
            self.line(f"{title}: {_brief(reason)}" if reason else f"{title}:", BOLD)
            for number, step in enumerate(getattr(event, "steps", ()), 1):
                goal, tool = (step[0], step[1]) if isinstance(step, tuple | list) else (str(step), None)
                self.line(f"  {number}. {_brief(str(goal))}" + (f"  [{tool}]" if tool else ""), DIM)
            return True
        if kind == "step_started":
            self.line(f"▸ step {getattr(event, 'index', '?')}: {_brief(getattr(event, 'goal', ''))}", CYAN)
            return True
        if kind == "step_finished":
            error = getattr(event, "error", None)
            outcome = str(error or getattr(event, "outcome", ""))
            if not error and outcome.strip() == self._last_result:
                return True  # the tool result line above already says it
            mark = "✗" if error else "✓"
            self.line(f"  {mark} {_brief(outcome)}", RED if error else DIM)
            return True
        return False

    def code(self, code: str, language: str = "python") -> None:
        """Code to approve, highlighted on a terminal; hidden characters are shown as marks that stand out."""
        self.end_block()
        hidden = hidden_characters(code)
        if hidden:
            shown = ", ".join(dict.fromkeys(hidden))
            self.warn(
                f"this code holds {len(hidden)} hidden character(s) that a terminal would obey or not show, marked "
                f"here as {shown}: read it carefully (or answer n)"
            )
        if not self.styled:
            self._write("".join(f"    {line}\n" for line in visible(code).splitlines()))
            return
        from rich.console import Console
        from rich.syntax import Syntax

        # Tabs expanded here so the marks' columns are known; wrapped so nothing hides past the right edge.
        shown = visible(code).expandtabs(TAB_SIZE)
        syntax = Syntax(shown, language, theme="monokai", line_numbers=True, word_wrap=True, background_color="default")
        for start, end in mark_positions(code, TAB_SIZE):
            syntax.stylize_range(MARK_STYLE, start, end)
        Console(file=self.out, force_terminal=True, width=self.width).print(syntax)

    def footer(self, usage: Usage, num_ctx: int | None, context_used: int) -> None:
        """A dim line: tokens in and out, speed, context fill (of the last model call) against `num_ctx`."""
        self.end_block()
        self.line(footer_text(usage, num_ctx, context_used), DIM)

    def line(self, text: str, style: str = "") -> None:
        """One line of text (styled on a terminal), hidden characters shown as marks."""
        self.end_block()
        self._write(self._style(style, visible(text)) + "\n")

    def info(self, text: str) -> None:
        """A notice from the chat itself."""
        self.line(text, DIM)

    def warn(self, text: str) -> None:
        """A warning the user should read."""
        self.line(f"warning: {text}", YELLOW)

    def error(self, text: str) -> None:
        """One clear error line."""
        self.line(f"error: {' '.join(text.split())}", RED)

    def raw(self, text: str) -> None:
        """Text as given, but for hidden characters (shown as marks)."""
        self.end_block()
        text = visible(text)
        self._write(text if text.endswith("\n") else text + "\n")

    # -- plumbing --------------------------------------------------------------------------------------------
    def _style(self, style: str, text: str) -> str:
        return f"{style}{text}{RESET}" if self.styled and style else text

    def _close_line(self) -> None:
        if self._line_open:
            self._write("\n")
            self._line_open = False

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def restore(self) -> None:
        """Leave the terminal usable: settle output, reset styles, show the cursor."""
        self.end_block()
        if self.styled:
            self._write(RESET + "\x1b[?25h")


def footer_text(usage: Usage, num_ctx: int | None, context_used: int) -> str:
    """`20 in · 10 out · 50.0 tok/s · context 30/32768 (0%)`."""
    parts = [f"{usage.prompt_tokens} in", f"{usage.completion_tokens} out"]
    if usage.tokens_per_second:
        parts.append(f"{usage.tokens_per_second:.1f} tok/s")
    if num_ctx:
        parts.append(f"context {context_used}/{num_ctx} ({100 * context_used / num_ctx:.0f}%)")
    return " · ".join(parts)


def _arguments(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in arguments.items())


def _brief(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= ONE_LINE else flat[: ONE_LINE - 1] + "…"


_SECTION_LABEL = re.compile(r"^\[[a-z][a-z ]*\]$")


def _headline(lines: list[str]) -> str:
    """The first line worth showing: section labels such as the code tool's `[stdout]` say nothing alone."""
    return next((line for line in lines if line.strip() and not _SECTION_LABEL.match(line.strip())), lines[0])
