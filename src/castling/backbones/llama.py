"""The Llama backbone: planning with JSON-schema output, and Meta's text tool-call formats when it calls tools."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any, ClassVar

from castling.backbones.base import BaseBackbone
from castling.backbones.parsing.llama import parse_llama_content
from castling.backbones.parsing.qwen import ContentParse
from castling.backbones.profiles import LLAMA, Profile
from castling.backbones.wire import WireTool


class Llama(BaseBackbone):
    """Llama models (llama3.1, llama3.2, llama3.3, llama4); plans by default (`Agent(..., strategy="plan")`).

    Under the tools strategy, calls Ollama's llama3.x template leaves in the text are recovered: JSON with
    `parameters`, ```json fences, `<|python_tag|>` payloads, `<function=...>` tags and pythonic lists
    `[f(a=1), g(b='x')]`; a bare `[]` reads as "no call".

    Ollama's llama3.x template shows the tools only inside the last user message (ollama#6477): once a tool
    result is the last message, the model no longer sees them and multi-step chains stall. The tools loop
    therefore also lists the tools, the call format and when to call (ollama#6127) in the system prompt
    (`tool_guide`), which the template renders on every turn.
    """

    profile: ClassVar[Profile] = LLAMA

    def tool_guide(self, tools: Sequence[WireTool]) -> str | None:
        """The tools and Ollama's llama3.x call format as system-prompt text (None when no tool is offered).

        Sent on every request, not only after a tool result, so the prompt prefix stays the same from turn to
        turn and Ollama can reuse its KV cache.
        """
        if not tools:
            return None
        return TOOL_GUIDE.format(tools="\n".join(_tool_line(tool) for tool in tools))

    def parse_text_calls(self, content: str, tool_names: Collection[str] = ()) -> ContentParse:
        """Recover calls in Meta's Llama formats (see `castling.backbones.parsing.llama`)."""
        return parse_llama_content(content, tool_names)


TOOL_GUIDE = """You can use these tools (name: description. JSON schema of its arguments):
{tools}

To call a tool, reply with only a JSON object and nothing else:
{{"name": "<tool name>", "parameters": {{"<argument>": <value>, ...}}}}
Call one tool per reply. Its result comes back in the next message; then call another tool if the task still \
needs one, or answer.
Use a tool only when the request needs it (information you do not have, or an action to take). For greetings, \
small talk or what you can answer yourself, and once the tool results answer the request, \
reply in plain text without any JSON."""


def _tool_line(tool: WireTool) -> str:
    function: dict[str, Any] = tool.get("function", {})
    schema = json.dumps(function.get("parameters") or {}, separators=(",", ":"))
    return f"- {function.get('name', '')}: {str(function.get('description') or '').strip()} {schema}"
