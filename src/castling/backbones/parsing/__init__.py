"""Recovering tool calls that a model left in its text instead of the structured `tool_calls` field."""

from castling.backbones.parsing.coercion import coerce_arguments
from castling.backbones.parsing.qwen import parse_qwen_content

__all__ = ["coerce_arguments", "parse_qwen_content"]
