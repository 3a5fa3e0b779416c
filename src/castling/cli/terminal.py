"""Terminal state during a turn: keys typed while the answer streams are not echoed into the repainted tail.

Only echo is turned off (Ctrl-C still sends SIGINT); the previous state is restored in `finally`, whatever
ends the turn. The typed keys stay in the input buffer and show up at the next prompt.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO


@contextlib.contextmanager
def no_echo(stream: TextIO | None = None) -> Iterator[None]:
    """Turn off echo on `stream` (stdin) while the block runs, if it is a terminal."""
    stream = stream or sys.stdin
    try:
        import termios

        fd = stream.fileno()
        saved = termios.tcgetattr(fd) if stream.isatty() else None
    except (ImportError, OSError, ValueError):
        saved = None
    if saved is None:
        yield
        return
    quiet = list(saved)
    quiet[3] = quiet[3] & ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
