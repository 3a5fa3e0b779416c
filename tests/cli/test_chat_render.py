"""Rendering: settled Markdown printed once with only a short tail repainted; plain output without styling."""

import io
import re

from castling.cli.markdown_stream import TAIL, MarkdownStream
from castling.cli.render import Screen, wants_style


class Tty(io.StringIO):
    def isatty(self):
        return True


def stream_lines(count):
    out = io.StringIO()
    ticks = iter(range(10_000))
    stream = MarkdownStream(out, 80, clock=lambda: float(next(ticks)))
    text = ""
    for i in range(count):
        text += f"- item number {i}\n"
        stream.update(text)
    stream.finish()
    return out.getvalue()


def test_settled_lines_are_not_repainted_and_the_tail_stays_short():
    output = stream_lines(40)
    moves = [int(n) for n in re.findall(r"\x1b\[(\d+)F", output)]
    assert moves and max(moves) <= TAIL
    assert output.count("item number 0") <= TAIL + 1  # a full repaint per chunk would print it 40 times
    for i in range(40):
        assert f"item number {i}" in output


def test_markdown_is_rendered_on_a_terminal():
    out = Tty()
    screen = Screen(out, styled=True, width=60)
    for piece in ["# Ti", "tle\n\nSome **bo", "ld** text"]:
        screen.text(piece)
    screen.end_block()
    output = out.getvalue()
    assert "\x1b[" in output and "# Title" not in output and "**" not in output
    assert "Title" in output and "bold" in output


def test_plain_output_has_no_escape_codes():
    out = io.StringIO()
    screen = Screen(out, styled=False)
    screen.thinking("hmm")
    screen.text("**raw** markdown")
    screen.tool_call("fetch", {"url": "http://example.invalid"})
    screen.tool_result("fetch", "page text\nmore", None, verbose=False)
    screen.restore()
    output = out.getvalue()
    assert "\x1b" not in output
    assert output == (
        "Thinking...\nhmm\n...done thinking.\n\n**raw** markdown\n"
        '⚙ fetch(url="http://example.invalid")\n  ↳ page text  (+1 line, /verbose shows all)\n'
    )


def test_style_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_style(Tty()) and not wants_style(io.StringIO()) and not wants_style(Tty(), plain=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_style(Tty())


def test_restore_shows_the_cursor_and_resets_styles():
    out = Tty()
    screen = Screen(out, styled=True)
    screen.thinking("partial")
    screen.restore()
    assert out.getvalue().endswith("\x1b[0m\x1b[?25h")


def test_code_blocks_have_no_background_and_a_language_label():
    from castling.cli.markdown_stream import render_lines

    lines = render_lines("```python\nprint('hi')\n```", 60)
    output = "\n".join(lines)
    assert "\x1b[48;" not in output  # no background colour: copied code stays clean
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    assert plain.splitlines()[:2] == ["python", "print('hi')"]


def test_no_echo_turns_echo_off_and_restores_it():
    import os
    import pty
    import termios

    from castling.cli.terminal import no_echo

    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "r", closefd=False) as stream:
            assert termios.tcgetattr(follower)[3] & termios.ECHO
            with no_echo(stream):
                assert not termios.tcgetattr(follower)[3] & termios.ECHO
            assert termios.tcgetattr(follower)[3] & termios.ECHO
    finally:
        os.close(leader)
        os.close(follower)


def test_plan_strategy_events_are_shown_as_plan_and_steps():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class PlanCreated:  # the plan strategy's events, by shape (they arrive with the Llama backbone)
        steps: tuple
        kind: str = "plan_created"

    @dataclass(frozen=True)
    class PlanRevised:
        steps: tuple
        revision: int
        reason: str
        kind: str = "plan_revised"

    @dataclass(frozen=True)
    class StepStarted:
        index: int
        goal: str
        kind: str = "step_started"

    @dataclass(frozen=True)
    class StepFinished:
        index: int
        goal: str
        outcome: str
        error: str | None = None
        kind: str = "step_finished"

    out = io.StringIO()
    screen = Screen(out, styled=False)
    events = [
        PlanCreated((("Find the page", "fetch"), ("Answer", None))),
        StepStarted(1, "Find the page"),
        StepFinished(1, "Find the page", "", "page not found"),
        PlanRevised((("Search instead", "fetch"),), 1, "the page was missing"),
    ]
    assert all(screen.plan_event(event) for event in events)
    assert not screen.plan_event(object())
    screen.tool_result("fetch", "found it", None, verbose=False)
    assert screen.plan_event(StepFinished(2, "Search instead", "found it"))  # not repeated under the result
    assert out.getvalue() == (
        "Plan:\n  1. Find the page  [fetch]\n  2. Answer\n▸ step 1: Find the page\n  ✗ page not found\n"
        "Plan revised (#1): the page was missing\n  1. Search instead  [fetch]\n  ↳ found it\n"
    )


def test_one_line_result_skips_the_code_tools_section_labels():
    out = io.StringIO()
    screen = Screen(out, styled=False)
    screen.tool_result("run_python", "[stdout]\n1267650600228229401496703205376\n[value]\n2", None, verbose=False)
    assert out.getvalue() == "  ↳ 1267650600228229401496703205376  (+1 line, /verbose shows all)\n"  # [value] 2
