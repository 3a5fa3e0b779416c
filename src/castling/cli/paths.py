"""Where the chat keeps its files: history, sessions, checkpoints."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """`CASTLING_DATA_DIR`, else `$XDG_DATA_HOME/castling`, else `~/.local/share/castling` (created)."""
    explicit = os.environ.get("CASTLING_DATA_DIR")
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "castling"
    path.mkdir(parents=True, exist_ok=True)
    return path
