"""Where the chat keeps its files (history, sessions, checkpoints), readable by the user alone.

Conversations can hold anything the user or a tool saw, so the data folder is 0700 and its files 0600, whatever
the umask. A folder left readable by an older version is tightened on start. SQLite gives its `-wal`, `-shm` and
`-journal` files the mode of their database, so creating the database 0600 before SQLite opens it covers those.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from castling.errors import ConfigError

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def data_dir() -> Path:
    """`CASTLING_DATA_DIR`, else `$XDG_DATA_HOME/castling`, else `~/.local/share/castling` (created, made private)."""
    explicit = os.environ.get("CASTLING_DATA_DIR")
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "castling"
    try:
        path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        path.chmod(PRIVATE_FOLDER)
        _tighten_entries(path)
    except OSError as exc:
        raise ConfigError(
            f"The chat's data folder {path} cannot be made private ({exc.strerror or exc}): fix its owner or "
            "permissions, or point CASTLING_DATA_DIR at a folder of yours."
        ) from exc
    return path


def private_file(path: Path) -> Path:
    """`path`, created empty if missing, readable and writable by the user alone; returned for chaining."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)  # an existing file keeps its mode through os.open: tighten it
    finally:
        os.close(descriptor)
    return path


def _tighten_entries(folder: Path) -> None:
    """Drop group and other permissions from what the folder already holds (files saved by an older version)."""
    for entry in folder.iterdir():
        info = entry.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue  # a link's target may not be the chat's to change
        if info.st_mode & 0o077:
            entry.chmod(stat.S_IMODE(info.st_mode) & 0o700)
