"""A `ChatRequest` as an OpenAI-compatible `/chat/completions` body.

The messages are converted by `openai_messages.py` (call ids, JSON-string arguments, `tool_call_id`s). Options
keep Ollama's names in castling (`num_predict`, ...) and are renamed here; Ollama-only ones are dropped.
"""

from __future__ import annotations

import json
from typing import Any

from castling.backbones.openai_messages import to_openai_messages
from castling.backbones.wire import ChatRequest

RENAMED_OPTIONS = {"num_predict": "max_tokens", "repeat_penalty": "repetition_penalty"}
"""Ollama option → the OpenAI-compatible field (vLLM, SGLang and llama.cpp take `repetition_penalty`)."""
OLLAMA_ONLY_OPTIONS = frozenset(
    {"num_ctx", "num_keep", "num_batch", "num_gpu", "main_gpu", "num_thread", "use_mmap", "use_mlock", "numa"}
    | {"low_vram", "repeat_last_n", "mirostat", "mirostat_eta", "mirostat_tau", "penalize_newline", "tfs_z"}
)
"""Options with no meaning on an OpenAI-compatible server: the context window is fixed when the server starts."""
SCHEMA_NAME = "castling_output"


def chat_body(request: ChatRequest) -> dict[str, Any]:
    """The streamed `/chat/completions` body for `request` (tools are sent whole, as given)."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": to_openai_messages(request.messages),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = request.tools
    body.update(sampling_fields(request.options))
    if request.format is not None:
        body["response_format"] = response_format(request.format)
    if isinstance(request.think, bool):
        # Read by Qwen3's chat template on vLLM, SGLang and llama.cpp (--jinja); other templates ignore it.
        body["chat_template_kwargs"] = {"enable_thinking": request.think}
    elif isinstance(request.think, str):
        body["reasoning_effort"] = request.think  # levels ("low", "medium", "high") as gpt-oss takes them
    return body


def sampling_fields(options: dict[str, Any]) -> dict[str, Any]:
    """Ollama-named options as OpenAI-compatible fields; Ollama-only ones are left out."""
    return {
        RENAMED_OPTIONS.get(name, name): value
        for name, value in options.items()
        if name not in OLLAMA_ONLY_OPTIONS and value is not None
    }


def response_format(schema: str | dict[str, Any]) -> dict[str, Any]:
    """Ollama's `format` (a JSON schema, or `"json"`) as `response_format`."""
    if schema == "json":
        return {"type": "json_object"}
    if isinstance(schema, str):
        schema = json.loads(schema)
    name = str(schema.get("title") or SCHEMA_NAME) if isinstance(schema, dict) else SCHEMA_NAME
    return {"type": "json_schema", "json_schema": {"name": _identifier(name), "schema": schema, "strict": True}}


def _identifier(name: str) -> str:
    """`json_schema.name` must match `^[a-zA-Z0-9_-]{1,64}$` (OpenAI's rule; vLLM and llama.cpp are looser)."""
    cleaned = "".join(ch if ch.isalnum() and ch.isascii() or ch in "_-" else "_" for ch in name)[:64]
    return cleaned or SCHEMA_NAME
