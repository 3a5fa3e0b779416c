"""The built-in tools by name: the one table `castling chat` and the scenarios read.

Light on purpose (no langchain-core, no sandbox, no web extractor): a tool's module is imported only when the tool
is made or asked whether it is installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool


@dataclass(frozen=True)
class BuiltinTool:
    """A tool that ships with castling."""

    factory: str
    """`module:function` that builds the tool, imported when it is made."""
    scenario_name: str
    """How scenario files name it (`tools: [python]`): the factory's name in `castling.tools`."""
    aliases: tuple[str, ...] = ()
    """More names `castling chat --tools`, `--approve` and `/tools` accept for it."""
    takes_transport: bool = False
    """The factory accepts `transport=` (an httpx transport, or a function wrapping the network's), so the tool's
    HTTP traffic can be recorded and replayed."""
    runs_code: bool = False
    """It runs code the model writes: the chat asks before each call unless told otherwise."""

    def load(self) -> Callable[..., BaseTool] | None:
        """The factory, or None when this version of castling lacks it (ImportError if its module cannot load)."""
        module, _, attribute = self.factory.partition(":")
        factory: Callable[..., BaseTool] | None = getattr(importlib.import_module(module), attribute, None)
        return factory

    def installed(self) -> bool:
        """True when the factory can be imported here (its optional dependencies are installed)."""
        try:
            return self.load() is not None
        except ImportError:
            return False

    def make(self, transport: Any = None) -> BaseTool:
        """A new instance, its HTTP traffic through `transport` when given and the tool takes one.

        Raises LookupError when this version of castling lacks the tool, ImportError when its module cannot load.
        """
        factory = self.load()
        if factory is None:
            raise LookupError(f"{self.factory} does not exist")
        return factory(transport=transport) if self.takes_transport and transport is not None else factory()


BUILTIN_TOOLS: dict[str, BuiltinTool] = {
    "run_python": BuiltinTool("castling.tools:python", "python", aliases=("code",), runs_code=True),
    "fetch": BuiltinTool("castling.tools:fetch", "fetch", takes_transport=True),
}
"""The tool's name as the model sees it → how to build it and what else it is called."""
