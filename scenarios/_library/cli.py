"""The command line: `_build_library.py` (everything), or one part: `plan`, `openai`, `context`, `tags`."""

from __future__ import annotations

from castling.scenarios.format import json_schema_text

from .common import ROOT
from .constructed import OPENAI_FOLDERS, build_constructed
from .long_context import build_long_context
from .real_traffic import build_live
from .tags import build_tags


def main(argv: list[str]) -> None:
    """Rebuild the part of the library `argv` names; any other arguments rebuild everything."""
    if argv == ["tags"]:  # only the discovery scenario (keeps the other files' timestamps)
        build_tags()
        return
    if argv == ["context"]:  # only the long conversations that compact
        build_long_context()
        return
    if argv == ["plan"]:  # only the plan folders (both wires): after a change of the plan strategy's wire format
        build_constructed({"llama-plan", "openai/llama-plan"})
        return
    if argv == ["openai"]:  # only openai/: the tasks recorded on the OpenAI-compatible wire
        build_constructed(OPENAI_FOLDERS)
        return
    (ROOT / "scenario.schema.json").write_text(json_schema_text())
    build_constructed()
    build_long_context()
    build_live()
    build_tags()
