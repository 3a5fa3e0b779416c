"""Sandboxed Python code execution: `python()` builds the `run_python` tool."""

from ._config import PythonToolConfig
from .errors import SandboxUnavailable, UnsandboxedWarning
from .tool import PythonTool, python

__all__ = ["PythonTool", "PythonToolConfig", "SandboxUnavailable", "UnsandboxedWarning", "python"]
