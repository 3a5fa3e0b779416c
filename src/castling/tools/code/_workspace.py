"""The host workspace directory: created safely, reached without following symlinks, bound by file descriptor.

A sandbox can write symlinks into its own workspace. If a later `python(workspace="wsA/project")` followed
`wsA/project -> /some/dir`, the host would hand `/some/dir` to the sandbox uid and bind it read-write. So every
path component is opened with O_NOFOLLOW (a symlink anywhere is refused), only directories this module creates
are chowned, an existing directory must already belong to the sandbox, and bwrap binds the checked file
descriptor (`--bind-fd`), so swapping a component after the check changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from castling.errors import ConfigError

_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def expected_owner(uid: int) -> int:
    """Who must own the workspace: the sandbox uid on a root host, else the current user."""
    return uid if os.geteuid() == 0 else os.geteuid()


def prepare_workspace(path: Path, uid: int) -> Path:
    """Create the workspace if needed and check it; returns the absolute path that will be bound."""
    path = Path(os.path.abspath(path))
    created = _make_missing(path)
    if os.geteuid() == 0 and created:
        # Only a directory we just made, and never through a symlink swapped in since the mkdir.
        os.chown(path, uid, uid, follow_symlinks=False)
    if os.geteuid() == 0:
        _check_reachable(path, uid)
    os.close(open_workspace(path, uid))
    return path


def open_workspace(path: Path, uid: int) -> int:
    """An O_PATH fd of the workspace, reached component by component without following symlinks.

    Raises ConfigError when a component is a symlink or missing, or the directory belongs to someone else.
    """
    fd = os.open("/", _DIR_FLAGS)
    try:
        for index, part in enumerate(path.parts[1:], start=2):
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _walk_error(Path(*path.parts[:index]), path, exc) from exc
            os.close(fd)
            fd = child
        _check_owner(path, os.fstat(fd), expected_owner(uid))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _make_missing(path: Path) -> bool:
    """Create the missing components (refusing symlinks on the way); True when `path` itself was created."""
    created = False
    for index in range(2, len(path.parts) + 1):
        part = Path(*path.parts[:index])
        try:
            part.mkdir(mode=0o755)
            created = True
        except FileExistsError:
            created = False
            if part.is_symlink():
                raise _symlink_error(part, path) from None
    return created


def _walk_error(part: Path, path: Path, exc: OSError) -> ConfigError:
    if part.is_symlink():
        return _symlink_error(part, path)
    return ConfigError(f"the workspace {path} cannot be used: {part}: {exc.strerror}")


def _symlink_error(part: Path, path: Path) -> ConfigError:
    target = ""
    with contextlib.suppress(OSError):
        target = f" -> {os.readlink(part)}"
    return ConfigError(
        f"the workspace {path} goes through a symbolic link ({part}{target}); castling refuses symlinks in "
        "workspace paths (a sandbox could plant one to take over another directory). Pass the real path."
    )


def _check_owner(path: Path, st: os.stat_result, owner: int) -> None:
    if st.st_uid != owner:
        raise ConfigError(
            f"the workspace {path} belongs to uid {st.st_uid}, not to the sandbox's uid {owner}; castling does "
            f"not take over existing directories. Use a new path (it is created) or `chown {owner}:{owner} {path}`."
        )


def _check_reachable(path: Path, uid: int) -> None:
    for parent in path.parents:
        st = parent.stat()
        if st.st_uid != uid and not st.st_mode & stat.S_IXOTH:
            raise ConfigError(
                f"the workspace {path} is not reachable by the sandbox uid {uid}: {parent} is not searchable by "
                f"others (mode {stat.S_IMODE(st.st_mode):o}). Choose a workspace outside it or `chmod o+x {parent}`."
            )
