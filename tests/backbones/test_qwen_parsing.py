"""Every form in which a Qwen model leaves a tool call in `content` (constructed text in the documented shapes,
plus the real vLLM Qwen3 reply that kept `<think>` inline)."""

from __future__ import annotations

import pytest

from castling.backbones.parsing import coerce_arguments, parse_qwen_content
from castling.backbones.wire import RawToolCall
from tests.conftest import recorded_json


def test_single_tool_call_block():
    parsed = parse_qwen_content('<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n</tool_call>')
    assert parsed.calls == [RawToolCall("weather", {"city": "Paris"})]
    assert parsed.text == ""


def test_several_tool_call_blocks_are_parallel_calls():
    content = (
        'Let me check both.\n<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "weather", "arguments": {"city": "Lyon"}}\n</tool_call>'
    )
    parsed = parse_qwen_content(content)
    assert [c.arguments["city"] for c in parsed.calls] == ["Paris", "Lyon"]
    assert parsed.text == "Let me check both."


def test_unclosed_block_and_python_literals_are_still_read():
    parsed = parse_qwen_content("<tool_call>\n{'name': 'weather', 'arguments': {'city': 'Lyon', 'live': True},}")
    assert parsed.calls == [RawToolCall("weather", {"city": "Lyon", "live": True})]


def test_bare_json_call():
    parsed = parse_qwen_content('{"name": "weather", "arguments": {"city": "Paris"}}')
    assert parsed.calls == [RawToolCall("weather", {"city": "Paris"})]


def test_bare_json_with_string_encoded_arguments():
    parsed = parse_qwen_content('{"name": "weather", "arguments": "{\\"city\\": \\"Paris\\"}"}')
    assert parsed.calls == [RawToolCall("weather", {"city": "Paris"})]


def test_fenced_json_call():
    parsed = parse_qwen_content('I will call it:\n```json\n{"name": "weather", "arguments": {"city": "Lyon"}}\n```')
    assert parsed.calls == [RawToolCall("weather", {"city": "Lyon"})]
    assert parsed.text == "I will call it:"


def test_xml_function_form_of_qwen35_and_coder():
    content = (
        "<tool_call>\n<function=get_current_temperature>\n<parameter=location>\nSan Francisco\n</parameter>\n"
        "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>"
    )
    parsed = parse_qwen_content(content)
    assert parsed.calls == [RawToolCall("get_current_temperature", {"location": "San Francisco", "days": "3"})]


def test_xml_function_form_without_tool_call_tags():
    parsed = parse_qwen_content("<function=weather><parameter=city>Paris</parameter></function>")
    assert parsed.calls == [RawToolCall("weather", {"city": "Paris"})]


def test_json_answer_mixed_with_prose_is_not_a_call():
    text = 'Here is the object you asked for: {"name": "Bob", "arguments": {}} — done.'
    parsed = parse_qwen_content(text)
    assert parsed.calls == []
    assert parsed.text == text


def test_json_with_other_keys_is_an_answer_not_a_call():
    parsed = parse_qwen_content('{"name": "Bob", "age": 42}')
    assert parsed.calls == []


def test_unreadable_block_is_reported_not_dropped():
    parsed = parse_qwen_content('<tool_call>{"name": "weather", "arguments": {"city": </tool_call>')
    assert parsed.calls == []
    assert parsed.errors
    assert "could not read" in parsed.errors[0]


def test_inline_think_from_real_vllm_qwen3_reply_is_split_off():
    """Real Qwen3-0.6B reply (vLLM, no reasoning parser): `<think>` left in content."""
    message = recorded_json("07_llamastack_qwen3-0.6b_vllm_think_in_content_toolcall.json")["response"]["body"][
        "__data__"
    ]["choices"][0]["message"]
    parsed = parse_qwen_content(message["content"])
    assert parsed.text == ""
    assert parsed.thinking.startswith("Okay, the user wants to calculate 5 plus 3.")
    assert "<think>" not in parsed.thinking


def test_lone_closing_think_tag():
    parsed = parse_qwen_content("weighing options</think>\n\nParis is sunnier.")
    assert parsed.thinking == "weighing options"
    assert parsed.text == "Paris is sunnier."


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        ("3", {"type": "integer"}, 3),
        ("2.5", {"type": "number"}, 2.5),
        (4.0, {"type": "integer"}, 4),
        ("true", {"type": "boolean"}, True),
        ("False", {"type": "boolean"}, False),
        ('["a", "b"]', {"type": "array", "items": {"type": "string"}}, ["a", "b"]),
        ('{"k": 1}', {"type": "object"}, {"k": 1}),
        (42, {"type": "string"}, "42"),
        ("7", {"anyOf": [{"type": "integer"}, {"type": "null"}]}, 7),
        ("seven", {"type": "integer"}, "seven"),
    ],
)
def test_values_are_coerced_to_the_schema(value, schema, expected):
    assert coerce_arguments({"x": value}, {"properties": {"x": schema}}) == {"x": expected}
