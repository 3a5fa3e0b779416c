"""The Llama backbone: planning with JSON-schema output, and Meta's text tool-call formats when it calls tools."""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar

from castling.backbones.base import OllamaBackbone
from castling.backbones.parsing.llama import parse_llama_content
from castling.backbones.parsing.qwen import ContentParse
from castling.backbones.profiles import LLAMA, Profile


class Llama(OllamaBackbone):
    """Llama models (llama3.1, llama3.2, llama3.3, llama4); plans by default (`Agent(..., strategy="plan")`).

    Under the tools strategy, calls Ollama's llama3.x template leaves in the text are recovered: JSON with
    `parameters`, ```json fences, `<|python_tag|>` payloads, `<function=...>` tags and pythonic lists
    `[f(a=1), g(b='x')]`; a bare `[]` reads as "no call".
    """

    profile: ClassVar[Profile] = LLAMA

    def parse_text_calls(self, content: str, tool_names: Collection[str] = ()) -> ContentParse:
        """Recover calls in Meta's Llama formats (see `castling.backbones.parsing.llama`)."""
        return parse_llama_content(content, tool_names)
