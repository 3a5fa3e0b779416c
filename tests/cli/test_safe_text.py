"""Model- and tool-written text never reaches the terminal with a control character or bidi override it would obey."""

import io

import pytest

from castling.cli.render import Screen
from castling.cli.safe_text import hidden_characters, mark_positions, visible

SPOOF = '# \x1b[2K\x1b[G  2 print("hello")'
OSC52 = "\x1b]52;c;ZXZpbA==\x07"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_escape_sequences_become_visible_marks():
    assert visible(SPOOF) == '# ␛[2K␛[G  2 print("hello")'
    assert visible(OSC52) == "␛]52;c;ZXZpbA==␇"


def test_every_c0_c1_and_bidi_control_is_replaced_but_newline_and_tab_stay():
    controls = "".join(chr(c) for c in range(0x20) if c not in (9, 10)) + "\x7f"
    controls += "".join(chr(c) for c in range(0x80, 0xA0)) + BIDI
    shown = visible(controls + "\t\n")
    assert shown.endswith("\t\n")
    assert not any(ch in shown[:-2] for ch in controls)
    assert "\u2421" in shown and "<U+009B>" in shown and "<U+202E>" in shown and "<U+061C>" in shown
    assert len(hidden_characters(controls)) == len(controls)


def test_windows_line_ends_are_not_flagged_but_a_lone_carriage_return_is():
    assert visible("one\r\ntwo") == "one\ntwo"
    assert visible("rm -rf ~\r# tidy up") == "rm -rf ~␍# tidy up"
    assert hidden_characters("one\r\ntwo") == []


def test_ordinary_text_is_unchanged():
    text = "Héllo, wörld — 你好 ✓ `code`\n\tindented"
    assert visible(text) == text and hidden_characters(text) == []


def test_mark_positions_point_at_the_marks_after_tab_expansion():
    code = "x = 1\n\tprint(1)  # \x1b[2K"
    shown = visible(code).expandtabs(4).split("\n")
    ((start, end),) = mark_positions(code, 4)
    assert start[0] == end[0] == 2
    assert shown[1][start[1] : end[1]] == "␛"


@pytest.mark.parametrize("styled", [False, True])
def test_every_screen_path_shows_marks_instead_of_escapes(styled):
    out = io.StringIO()
    screen = Screen(out, styled=styled, width=80)
    screen.thinking(f"thinking {OSC52}")
    screen.text(f"answer {OSC52} end")
    screen.tool_call("fetch", {"url": "http://x\u202e.invalid", "note": "\x9b31m"})
    screen.tool_result("fetch", f"result {OSC52}\nline two \x1b[2K", None, verbose=False)
    screen.tool_result("fetch", f"result {OSC52}\nline two \x1b[2K", None, verbose=True)
    screen.error(f"bad argument {SPOOF}")
    screen.raw(f"/markdown {OSC52}")
    screen.code(SPOOF)
    screen.end_block()
    output = out.getvalue()
    assert "\x1b]" not in output and "\x07" not in output and "\u202e" not in output and "\x9b" not in output
    assert "\x1b[2K" not in output and "\x1b[G" not in output
    assert output.count("␛]52;c;ZXZpbA==␇") >= 5 and "<U+202E>" in output and "<U+009B>31m" in output


def test_code_under_approval_warns_and_marks_hidden_characters_in_their_own_style():
    out = io.StringIO()
    Screen(out, styled=True, width=80).code(SPOOF + "\nprint(1)")
    output = out.getvalue()
    assert "warning: this code holds 2 hidden character(s)" in output and "marked here as ␛" in output
    assert output.count("\x1b[1;37;41m␛") == 2  # bold white on red: the mark cannot pass for code


def test_long_code_lines_wrap_instead_of_hiding_their_end():
    out = io.StringIO()
    Screen(out, styled=True, width=60).code("print('a')" + " " * 150 + "; evil()")
    assert "evil" in out.getvalue()


def test_plain_code_under_approval_shows_the_marks_too():
    out = io.StringIO()
    Screen(out, styled=False).code(SPOOF)
    assert out.getvalue().endswith('    # ␛[2K␛[G  2 print("hello")\n')
    assert "\x1b" not in out.getvalue()
