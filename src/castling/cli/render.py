"""What the chat prints: answers, thinking, tool calls, footers, errors; styled on a terminal, plain otherwise.

On a terminal, a one-line activity indicator (`⠋ waiting for the model · 3s`) fills the silences of a turn: it is
drawn only when no block is open, redrawn in place by `spin()`, and erased before anything else is written.
The width is read from the terminal at every render, so a resize is followed (`--plain` output has neither).

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
import time
from typing import Any, TextIO

from castling.backbones.usage import Usage
from castling.cli.markdown_stream import MarkdownStream
from castling.cli.safe_text import hidden_characters, mark_positions, visible

DIM, BOLD, RED, YELLOW, CYAN, RESET = "\x1b[2m", "\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[36m", "\x1b[0m"
MARK_STYLE = "bold white on red"
"""How a hidden character's mark stands out in code at the approval question."""
ONE_LINE = 100
TAB_SIZE = 4
MAX_WIDTH = 120
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ERASE_LINE = "\r\x1b[K"  # (not ESC[2K: a test tells the model's sequences by it)


def wants_style(out: TextIO, plain: bool = False) -> bool:
    """Style only a terminal, and never with `--plain` or `NO_COLOR` set."""
    return not plain and not os.environ.get("NO_COLOR") and out.isatty()


def terminal_columns(out: TextIO) -> int:
    """The width of the terminal `out` writes to, asked of the terminal itself; `$COLUMNS` (else 100) otherwise.

    Not `shutil.get_terminal_size` first: it prefers an exported `COLUMNS`, which does not follow a resize, so a
    user with `COLUMNS` in their environment got replies drawn too wide and broken repaints after one.
    """
    try:
        columns = os.get_terminal_size(out.fileno()).columns
    except (AttributeError, ValueError, OSError):  # not a terminal (a pipe, a file, a StringIO), or closed
        columns = 0
    return columns if columns > 0 else shutil.get_terminal_size((100, 24)).columns


class Screen:
    """The chat's output: one streamed block at a time (thinking or answer), plus one-line notices."""

    def __init__(self, out: TextIO | None = None, *, styled: bool | None = None, width: int | None = None) -> None:
        self.out = out or sys.stdout
        self.styled = wants_style(self.out) if styled is None else styled
        self._fixed_width = width
        self._block: str | None = None
        self._text = ""
        self._stream: MarkdownStream | None = None
        self._line_open = False
        self._last_result = ""
        self._status: str | None = None
        self._status_since = 0.0
        self._status_shown = False
        self._frame = 0
        self._last_call_id: str | None = None
        self._calls: dict[str, str] = {}
        self._plan_size = 0
        self.step = ""
        """The plan step running now (`step 2/4`), shown before what the indicator says."""

    @property
    def width(self) -> int:
        """Columns to render to: read from the terminal every time (it may have been resized), at most 120."""
        if self._fixed_width:
            return self._fixed_width
        return max(20, min(terminal_columns(self.out), MAX_WIDTH))

    # -- activity indicator ----------------------------------------------------------------------------------
    def status(self, what: str | None) -> None:
        """Say what the turn is waiting for (None: nothing); shown by `spin()` while nothing else is printed."""
        if what != self._status:
            self._status_since = time.monotonic()
        self._status = what
        if what is None:
            self._clear_status()
        else:
            self.spin()

    def spin(self) -> None:
        """Redraw the indicator in place (the chat calls this a few times a second during a turn)."""
        if not self.styled or self._status is None or self._block is not None or self._line_open:
            return
        self._frame = (self._frame + 1) % len(SPINNER)
        seconds = int(time.monotonic() - self._status_since)
        what = f"{self.step}: {self._status}" if self.step else self._status
        line = f"{SPINNER[self._frame]} {' '.join(what.split())}" + (f" · {seconds}s" if seconds else "")
        line = visible(line)[: self.width - 1]  # never wraps: the erase clears one row
        self.out.write(f"{ERASE_LINE}{DIM}{line}{RESET}")
        self.out.flush()
        self._status_shown = True

    def _clear_status(self) -> None:
        if self._status_shown:
            self._status_shown = False
            self.out.write(ERASE_LINE)
            self.out.flush()

    # -- streamed blocks -------------------------------------------------------------------------------------
    def thinking(self, piece: str) -> None:
        """A piece of thinking: dim, apart from the answer."""
        self._clear_status()
        if self._block != "thinking":
            self.end_block()
            self._block = "thinking"
            self._write(self._style(DIM, "Thinking…\n") if self.styled else "Thinking...\n")
        piece = visible(piece)
        self._write(self._style(DIM, piece))
        self._line_open = not piece.endswith("\n")

    def text(self, piece: str) -> None:
        """A piece of the answer: streamed Markdown on a terminal, raw text otherwise."""
        self._clear_status()
        if self._block != "text":
            self.end_block()
            self._block = "text"
            self._text = ""
            self._stream = MarkdownStream(self.out, lambda: self.width) if self.styled else None
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
    def tool_call(self, name: str, arguments: dict[str, Any], call_id: str = "") -> None:
        """`⚙ name(args)` on one line, before the tool runs."""
        self.end_block()
        call = f"{name}({_brief(_arguments(arguments))})"
        self.line(f"⚙ {call}", CYAN)
        self._calls[call_id] = _brief(f"{name}({_arguments(arguments)})")
        self._last_call_id = call_id

    def tool_result(self, name: str, result: str, error: str | None, verbose: bool, call_id: str = "") -> None:
        """The result in one line (or whole, on `/verbose`).

        A result that does not come right under its own call (parallel calls) names the call it answers.
        """
        self.end_block()
        paired = call_id == self._last_call_id or call_id not in self._calls  # an unknown call: nothing to pair
        call = self._calls.pop(call_id, name)
        label = "" if paired else f"{call} → "
        self._last_result = result.strip()
        lines = result.strip().splitlines() or [""]
        if verbose:
            self.line(f"  ↳ {call if not paired else name}:", RED if error else DIM)
            self._write("".join(f"    {visible(line)}\n" for line in lines))
            return
        headline = _headline(lines)
        hidden = len([line for line in lines if _worth_showing(line)]) - (1 if _worth_showing(headline) else 0)
        more = f"  (+{hidden} line{'s' if hidden > 1 else ''}, /verbose shows all)" if hidden > 0 else ""
        self.line(f"  ↳ {label}{_brief(headline)}{more}", RED if error else DIM)

    def plan_event(self, event: Any) -> bool:
        """Show an event of the plan strategy (plan made or revised, step started or finished); False if not one.

        The indicator follows the plan: `step 2/4: goal`, `re-planning because step 2 failed: …`.
        """
        kind = getattr(event, "kind", "")
        if kind in ("plan_created", "plan_revised"):
            self.end_block()
            steps = list(getattr(event, "steps", ()))
            self._plan_size = len(steps)
            title = "Plan" if kind == "plan_created" else f"Plan revised (#{getattr(event, 'revision', '?')})"
            reason = getattr(event, "reason", "") or ("" if steps else "no steps, answering directly")
            self.line(f"{title}: {_brief(reason)}" if reason else f"{title}:", BOLD)
            for number, step in enumerate(steps, 1):
                goal, tool = (step[0], step[1]) if isinstance(step, tuple | list) else (str(step), None)
                self.line(f"  {number}. {_brief(str(goal))}" + (f"  [{tool}]" if tool else ""), DIM)
            self.status("writing the answer" if not steps else "starting the plan")
            return True
        if kind == "step_started":
            index = getattr(event, "index", "?")
            self.line(f"▸ step {index}: {_brief(getattr(event, 'goal', ''))}", CYAN)
            self.step = f"step {index}/{max(self._plan_size, index if isinstance(index, int) else 0)}"
            self.status("waiting for the model")
            return True
        if kind == "step_finished":
            self._step_finished(event)
            return True
        return False

    def _step_finished(self, event: Any) -> None:
        error = getattr(event, "error", None)
        index = getattr(event, "index", "?")
        outcome = str(error or getattr(event, "outcome", ""))
        self.step = ""
        if error:
            self.line(f"  ✗ {_brief(outcome)}", RED)
            self.status(f"re-planning because step {index} failed: {_brief(outcome)}")
            return
        if outcome.strip() != self._last_result:  # else the tool result line above already says it
            self.line(f"  ✓ {_brief(outcome)}", DIM)
        self.status(f"checking the plan after step {index}/{self._plan_size or '?'}")

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
        self._last_call_id = None  # the next result line is no longer right under its call
        self._write(self._style(style, visible(text)) + "\n")

    def info(self, text: str) -> None:
        """A notice from the chat itself."""
        self.line(text, DIM)

    def warn(self, text: str) -> None:
        """A warning the user should read."""
        self.line(f"warning: {text}", YELLOW)

    def error(self, text: str) -> None:
        """One clear error line (API arguments named as the chat's flags)."""
        from castling.cli.wording import for_the_command_line

        self.line(f"error: {for_the_command_line(' '.join(text.split()))}", RED)

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
        self._clear_status()
        self.out.write(text)
        self.out.flush()

    def restore(self) -> None:
        """Leave the terminal usable: settle output, reset styles, show the cursor."""
        self.status(None)
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


def _worth_showing(line: str) -> bool:
    """Not blank and not a section label such as the code tool's `[stdout]` (which says nothing alone)."""
    return bool(line.strip()) and not _SECTION_LABEL.match(line.strip())


def _headline(lines: list[str]) -> str:
    """The first line worth showing."""
    return next((line for line in lines if _worth_showing(line)), lines[0])
