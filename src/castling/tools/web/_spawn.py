"""How the extraction worker is started: its environment, its confinement, and the tail of its stderr."""

from __future__ import annotations

import collections
import os
import subprocess
import threading
from typing import Any

from castling.tools.web._confine import deny_program

# Variables the worker inherits; everything else (API keys, tokens, proxy settings) stays with the host.
# PYTHONPATH/PYTHONHOME are kept because without them an interpreter set up that way cannot import anything.
INHERITED_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "PYTHONHOME", "SYSTEMROOT")
STDERR_TAIL = 4096


def worker_environment() -> dict[str, str]:
    """The worker's environment: locale, PATH and interpreter essentials from ours, nothing else."""
    env = {name: value for name, value in os.environ.items() if name in INHERITED_ENV or name.startswith("LC_")}
    env.update(OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def confinement() -> dict[str, Any]:
    """What the worker applies to itself: the code sandbox's seccomp deny list plus no network and no exec."""
    from castling.tools.code._seccomp import seccomp_program

    programs = [program for program in (seccomp_program(), deny_program()) if program is not None]
    return {"seccomp": [program.hex() for program in programs]}


class StderrTail:
    """Drains a worker's stderr in a thread (so a chatty library cannot block it) and keeps the last bytes."""

    def __init__(self, proc: subprocess.Popen[bytes] | None) -> None:
        self._tail: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._thread: threading.Thread | None = None
        if proc is not None and proc.stderr is not None:
            self._thread = threading.Thread(target=self._drain, args=(proc.stderr,), daemon=True)
            self._thread.start()

    def _drain(self, stream: Any) -> None:
        with stream:
            while chunk := stream.read1(STDERR_TAIL):
                self._tail.append(chunk)
                self._size += len(chunk)
                while self._size - len(self._tail[0]) >= STDERR_TAIL:
                    self._size -= len(self._tail.popleft())

    def finish(self) -> None:
        """Wait for the rest of the output of an exited worker (its stderr closes when it exits)."""
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def text(self) -> str:
        return b"".join(self._tail)[-STDERR_TAIL:].decode("utf-8", "replace")

    def last_error(self) -> str:
        """The exception line(s) after the last traceback frame, or the last lines; empty when silent."""
        lines = [line for line in self.text().splitlines() if line.strip()]
        frames = [i for i, line in enumerate(lines) if line.startswith(" ")]
        message = lines[frames[-1] + 1 :] if frames else lines[-3:]
        return " ".join(line.strip() for line in message)[:500]

    def __str__(self) -> str:
        return self.text()
