"""Schema reduction and result rendering on the shapes real servers send (no server needed)."""

from __future__ import annotations

import base64
import json

import mcp_types as types
import pytest

from castling.tools.mcp import McpToolError
from castling.tools.mcp._results import render_result
from castling.tools.mcp._schema import for_small_models


def test_recursive_models_old_definitions_and_single_allof_are_flattened():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/definitions/Node"}}},
            }
        },
        "properties": {
            "tree": {"allOf": [{"$ref": "#/definitions/Node"}], "description": "the root"},
            "when": {"type": ["string", "null"], "format": "date-time", "title": "When"},
            "either": {"oneOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
        },
    }
    reduced = for_small_models(schema)
    text = json.dumps(reduced)
    assert "$ref" not in text and "definitions" not in text and "$schema" not in text and "format" not in text
    assert reduced["properties"]["tree"]["description"] == "the root"
    assert reduced["properties"]["tree"]["properties"]["kids"]["items"]["type"] == "object"
    assert reduced["properties"]["when"] == {"type": "string"}
    assert reduced["properties"]["either"] == {"oneOf": [{"type": "integer"}, {"type": "string"}]}


def test_a_missing_schema_is_an_empty_object():
    assert for_small_models(None) == {"type": "object", "properties": {}}


def test_results_join_text_describe_binaries_in_one_line_and_fall_back_to_structured_json():
    png = base64.b64encode(b"\x89PNG" + b"\0" * 2044).decode()
    result = types.CallToolResult(
        content=[
            types.TextContent(text="two files"),
            types.ImageContent(data=png, mime_type="image/png"),
            types.ResourceLink(uri="file:///tmp/a.txt", name="a.txt"),
            types.EmbeddedResource(resource=types.BlobResourceContents(uri="file:///b.bin", blob=png)),
        ]
    )
    assert render_result("ls", result).splitlines() == [
        "two files",
        "[image: image/png, 2.0 KiB]",
        "[resource link: file:///tmp/a.txt (a.txt)]",
        "[resource: file:///b.bin, 2.0 KiB]",
    ]
    structured = types.CallToolResult(content=[], structured_content={"n": 3})
    assert render_result("count", structured) == '{"n": 3}'
    with pytest.raises(McpToolError, match="the MCP tool rm reported an error: no such file"):
        render_result("rm", types.CallToolResult(content=[types.TextContent(text="no such file")], is_error=True))
