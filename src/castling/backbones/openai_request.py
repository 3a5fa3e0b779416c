"""A `ChatRequest` as an OpenAI-compatible `/chat/completions` body.

castling's wire messages are Ollama-shaped (no call ids, arguments as objects, results carrying `tool_name`);
the OpenAI wire wants ids on the calls, arguments as JSON strings and `tool_call_id` on each result. Options
keep Ollama's names in castling (`num_predict`, ...) and are renamed here; Ollama-only ones are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from castling.backbones.wire import ChatRequest, WireMessage

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


def to_openai_messages(messages: Iterable[WireMessage]) -> list[dict[str, Any]]:
    """Ollama-shaped messages with call ids added (`call_<n>`) and each tool result matched to its call.

    Results are matched to the calls of the assistant turn before them by order, preferring the first open call
    with the same tool name (Ollama matches the same way, so both wires see the same pairing). Each message is
    converted once and reused while it is resent in the same place (see `_convert`).
    """
    converted: list[dict[str, Any]] = []
    open_calls: list[tuple[str, str]] = []  # (id, tool name) of calls not answered yet
    counter = 0
    for message in messages:
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            turn = _convert(message, counter, _assistant_turn)
            calls = turn["tool_calls"]
            counter += len(calls)
            open_calls = [(call["id"], str(call["function"]["name"])) for call in calls]
            converted.append(turn)
        elif role == "tool":
            result_id = message.get("tool_call_id") or _take(open_calls, str(message.get("tool_name") or ""))
            if result_id is None:
                result_id = f"call_{counter}"  # a result with no call before it: still give the server an id
                counter += 1
            converted.append({"role": "tool", "tool_call_id": str(result_id), "content": message.get("content") or ""})
        else:
            converted.append(_convert(message, 0, _plain))
    return converted


_CONVERTED: dict[int, tuple[WireMessage, int, object, dict[str, Any]]] = {}
"""OpenAI messages by wire-message identity: the agents resend the same wire dicts every step
(`agents.messages.WireCache`), and re-converting the whole history (a `json.dumps` per call) was ~10% of a step.
The wire dict is kept in the value, so its id cannot be reused by another object while the entry lives."""
_CONVERTED_LIMIT = 16384


def _convert(message: WireMessage, counter: int, build: Callable[[WireMessage, int], dict[str, Any]]) -> dict[str, Any]:
    """`build(message, counter)`, reused while the same message object comes back at the same call counter.

    A replaced message is a new object (converted afresh), and so is one whose `content` or `tool_calls` was
    reassigned; what is not seen is a change made inside a sent message's call arguments (wire messages are
    values once sent, as the context guard's estimates assume too).
    """
    hit = _CONVERTED.get(id(message))
    check = (message.get("content"), message.get("tool_calls"))
    if hit is not None and hit[0] is message and hit[1] == counter and hit[2] == check:
        return hit[3]
    if len(_CONVERTED) >= _CONVERTED_LIMIT:
        _CONVERTED.clear()
    result = build(message, counter)
    _CONVERTED[id(message)] = (message, counter, check, result)
    return result


def _assistant_turn(message: WireMessage, counter: int) -> dict[str, Any]:
    calls = []
    for offset, call in enumerate(message["tool_calls"]):
        call_id = str(call.get("id") or f"call_{counter + offset}")
        calls.append({"id": call_id, "type": "function", "function": _function(call.get("function", {}))})
    return {"role": "assistant", "content": message.get("content") or "", "tool_calls": calls}


def _plain(message: WireMessage, counter: int) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key not in ("thinking", "tool_name")}


def _function(function: dict[str, Any]) -> dict[str, Any]:
    arguments = function.get("arguments", {})
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"name": function.get("name", ""), "arguments": text}


def _take(open_calls: list[tuple[str, str]], name: str) -> str | None:
    for position, (_, call_name) in enumerate(open_calls):
        if call_name == name:
            return open_calls.pop(position)[0]
    return open_calls.pop(0)[0] if open_calls else None


def _identifier(name: str) -> str:
    """`json_schema.name` must match `^[a-zA-Z0-9_-]{1,64}$` (OpenAI's rule; vLLM and llama.cpp are looser)."""
    cleaned = "".join(ch if ch.isalnum() and ch.isascii() or ch in "_-" else "_" for ch in name)[:64]
    return cleaned or SCHEMA_NAME
