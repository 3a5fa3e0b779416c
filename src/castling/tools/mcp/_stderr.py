"""A stdio MCP server's stderr, kept so that an error can quote the server's last words."""

from __future__ import annotations

import os
import tempfile
from typing import TextIO


class ServerStderr:
    """One temporary file per server process: an error quotes this process's last lines, not a previous one's."""

    def __init__(self) -> None:
        self._file: TextIO | None = None

    def fresh(self) -> TextIO:
        """A new file for a server process about to start (the previous one's is dropped)."""
        self.close()
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        return self._file

    def tail(self, lines: int = 3, limit: int = 400) -> str:
        """`; its last stderr lines: …` (at most `lines` lines, `limit` characters), or "" when it said nothing."""
        if self._file is None:
            return ""
        try:  # pread: the server process shares the file offset, so reading must not move it
            fd = self._file.fileno()
            size = os.fstat(fd).st_size
            data = os.pread(fd, 16384, max(0, size - 16384)).decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        tail = [line.strip() for line in data.splitlines() if line.strip()][-lines:]
        text = " | ".join(tail)
        text = text if len(text) <= limit else "..." + text[-limit:]
        return f"; its last stderr lines: {text}" if tail else ""

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
