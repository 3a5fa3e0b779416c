"""An MCP `CallToolResult` as the text a small model reads.

Text blocks are joined; images, audio and resources become one line each (what they are, their size), so a
text-only model knows they exist without base64 filling its context; structured content is sent as JSON when
the server gave no text (servers usually send both, the text being the same data).
"""

from __future__ import annotations

import base64
import json

import mcp_types as types

from castling.errors import CastlingError


class McpToolError(CastlingError):
    """The MCP tool reported an error (`isError`), or the call could not be completed."""


def render_result(tool: str, result: types.CallToolResult) -> str:
    """The model-facing text of a result; raises `McpToolError` when the server flagged it as an error."""
    lines = [_describe(block) for block in result.content]
    text = "\n".join(line for line in lines if line)
    if not any(isinstance(block, types.TextContent) for block in result.content) and result.structured_content:
        structured = json.dumps(result.structured_content, ensure_ascii=False, default=str)
        text = f"{text}\n{structured}" if text else structured
    if result.is_error:
        raise McpToolError(f"the MCP tool {tool} reported an error: {text or '(no message)'}")
    return text


def _describe(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        return f"[{block.type}: {block.mime_type}, {_size(_decoded_length(block.data))}]"
    if isinstance(block, types.ResourceLink):
        title = f" ({block.name})" if block.name and block.name != str(block.uri) else ""
        return f"[resource link: {block.uri}{title}]"
    return _describe_resource(block.resource)


def _describe_resource(resource: types.TextResourceContents | types.BlobResourceContents) -> str:
    mime = f", {resource.mime_type}" if resource.mime_type else ""
    if isinstance(resource, types.TextResourceContents):
        # Text is what the model can read: keep it, under a one-line header naming its source.
        return f"[resource: {resource.uri}{mime}]\n{resource.text}"
    return f"[resource: {resource.uri}{mime}, {_size(_decoded_length(resource.blob))}]"


def _decoded_length(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except ValueError:
        return len(data)


def _size(count: int) -> str:
    return f"{count} B" if count < 1024 else f"{count / 1024:.1f} KiB"
