"""Errors and warnings of the code tool.

::

    ConfigError (castling.errors)
    └── SandboxUnavailable      bubblewrap missing or unusable here; says how to fix it
    UserWarning
    └── UnsandboxedWarning      python(sandbox="process") runs model code without isolation
"""

from __future__ import annotations

from castling.errors import ConfigError

INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`, Fedora: `sudo dnf install bubblewrap`), "
    "or opt in to an unisolated interpreter with python(sandbox='process') "
    "(rlimits only: network and file reads are NOT contained)."
)


class SandboxUnavailable(ConfigError):
    """The bubblewrap sandbox cannot run on this machine."""


class UnsandboxedWarning(UserWarning):
    """Model-written code will run without a sandbox."""
