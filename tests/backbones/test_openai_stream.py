"""The OpenAI-compatible stream read into a turn: CONSTRUCTED SSE in the documented chunk shape (vLLM's
`chat.completion.chunk`, as vLLM's OpenAI-compatible server documents it), not recorded traffic."""

from __future__ import annotations

import httpx
import pytest

from castling.backbones.base import UNPARSABLE
from castling.backbones.openai import OpenAIServer
from castling.backbones.wire import ChatRequest
from castling.errors import ModelStreamError
from castling.scripted_openai import ScriptedOpenAI

MODEL = "Qwen/Qwen3-8B"


def chunk(delta=None, finish_reason=None, **extra):
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}],
        **extra,
    }


def head(index, call_id, name):
    return chunk(
        {
            "tool_calls": [
                {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            ]
        }
    )


def args(index, text, **fragment):
    return chunk({"tool_calls": [{"index": index, "function": {"arguments": text}, **fragment}]})


def read(events, wire_chunk=61, on_delta=None):
    scripted = ScriptedOpenAI(MODEL, wire_chunk=wire_chunk)
    scripted.add_events(events)
    server = OpenAIServer(transport=scripted.transport)
    return server.chat(ChatRequest(MODEL, [{"role": "user", "content": "hi"}]), on_delta)


def test_two_parallel_calls_with_interleaved_fragments_are_assembled_by_index():
    turn = read(
        [
            head(0, "chatcmpl-tool-a", "weather"),
            head(1, "chatcmpl-tool-b", "weather"),
            args(0, '{"ci'),
            args(1, '{"city": "Ly'),
            args(0, 'ty": "Par'),
            args(1, 'on"}'),
            args(0, 'is"}'),
            chunk(finish_reason="tool_calls"),
            "[DONE]",
        ]
    )
    assert [(c.name, dict(c.arguments)) for c in turn.tool_calls] == [
        ("weather", {"city": "Paris"}),
        ("weather", {"city": "Lyon"}),
    ]
    assert turn.done_reason == "stop"  # tool_calls → Ollama's word


def test_arguments_split_mid_token_and_sse_lines_cut_across_network_pieces():
    text = '{"query": "caf\\u00e9 na\\u00efve", "limit": 10}'
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]  # cuts inside the escapes and the number
    events = [head(0, "call-1", "search"), *(args(0, p) for p in pieces), chunk(finish_reason="tool_calls"), "[DONE]"]
    turn = read(events, wire_chunk=7)  # 7-byte network pieces: every SSE line arrives cut
    assert [(c.name, dict(c.arguments)) for c in turn.tool_calls] == [("search", {"query": "café naïve", "limit": 10})]


def test_reasoning_text_and_usage_are_read_and_streamed_in_order():
    deltas: list[tuple[str, str]] = []
    turn = read(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"reasoning_content": "The user "}),
            chunk({"reasoning_content": "greets me."}),
            chunk({"content": "Hello"}),
            chunk({"content": "!"}, finish_reason="stop"),
            {"object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 7}},
            "[DONE]",
        ],
        on_delta=lambda kind, text: deltas.append((kind, text)),
    )
    assert (turn.thinking, turn.content) == ("The user greets me.", "Hello!")
    assert deltas == [("thinking", "The user "), ("thinking", "greets me."), ("text", "Hello"), ("text", "!")]
    assert (turn.usage.prompt_tokens, turn.usage.completion_tokens, turn.usage.calls) == (12, 7, 1)
    assert turn.usage.total_seconds == 0.0  # OpenAI servers report no durations


def test_reasoning_sent_under_both_names_is_read_once_and_newer_reasoning_field_works():
    both = read([chunk({"reasoning_content": "think", "reasoning": "think"}), chunk({"content": "ok"}), "[DONE]"])
    newer = read([chunk({"reasoning": "think"}), chunk({"content": "ok"}), "[DONE]"])
    assert both.thinking == newer.thinking == "think"


def test_length_finish_reason_is_kept():
    turn = read([chunk({"content": "The answer is"}, finish_reason="length"), "[DONE]"])
    assert (turn.content, turn.done_reason) == ("The answer is", "length")


def test_tolerates_null_continuations_repeated_ids_no_finish_reason_and_no_done():
    fragment = {"id": "call-x", "type": None, "function": {"name": "weather", "arguments": None}}
    events = [
        chunk({"tool_calls": [{"index": 0, **fragment}]}),
        args(0, '{"city": ', id="call-x", type="function"),  # TGI repeats the id on every fragment
        args(0, '"Paris"}', id="call-x", type=None),
    ]
    turn = read(events)  # no finish_reason and no [DONE] (GPUStack/llama-box end the stream like this)
    assert [(c.name, dict(c.arguments)) for c in turn.tool_calls] == [("weather", {"city": "Paris"})]
    assert turn.done_reason == "stop"


def test_dropped_closing_brace_is_restored():
    # vllm#22885 / #32152: the hermes parser drops the last `}` of the arguments while streaming
    turn = read(
        [head(0, "c", "plot"), args(0, '{"point": {"x": 1, "y": 2}'), chunk(finish_reason="tool_calls"), "[DONE]"]
    )
    assert [dict(c.arguments) for c in turn.tool_calls] == [{"point": {"x": 1, "y": 2}}]


def test_unreadable_arguments_are_reported_not_raised():
    turn = read([head(0, "c", "weather"), args(0, '{"city": Paris'), chunk(finish_reason="tool_calls"), "[DONE]"])
    assert turn.tool_calls == []
    assert turn.done_reason == UNPARSABLE
    assert "weather" in turn.metrics["error"] and "not JSON" in turn.metrics["error"]


def test_a_string_cut_short_is_not_completed_by_guessing():
    turn = read([head(0, "c", "weather"), args(0, '{"city": "Par'), chunk(finish_reason="length"), "[DONE]"])
    assert turn.tool_calls == [] and "cut off" in turn.metrics["error"]


async def test_async_stream_reads_the_same_turn():
    scripted = ScriptedOpenAI(MODEL, wire_chunk=5)
    scripted.add_reply("Sunny.", thinking="Let me answer.", tool_calls=[("weather", {"city": "Paris"})])
    server = OpenAIServer(transport=scripted.transport)
    turn = await server.achat(ChatRequest(MODEL, [{"role": "user", "content": "hi"}]))
    await server.aclose()
    assert (turn.thinking, turn.content) == ("Let me answer.", "Sunny.")
    assert [(c.name, dict(c.arguments)) for c in turn.tool_calls] == [("weather", {"city": "Paris"})]
    assert turn.usage.prompt_tokens == 20


def test_multi_line_data_and_comments_follow_the_sse_rules():
    body = b': keep-alive\n\ndata: {"choices": [{"index": 0,\ndata: "delta": {"content": "hi"}}]}\n\ndata: [DONE]\n\n'
    transport = httpx.MockTransport(
        lambda request: (
            httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
            if request.url.path.endswith("/chat/completions")
            else httpx.Response(404)
        )
    )
    turn = OpenAIServer(transport=transport).chat(ChatRequest(MODEL, [{"role": "user", "content": "hi"}]))
    assert turn.content == "hi"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_scripted_server_streams_thinking_under_either_field(field):
    scripted = ScriptedOpenAI(MODEL)
    scripted.add_reply("ok", thinking="hmm", reasoning_field=field)
    turn = OpenAIServer(transport=scripted.transport).chat(ChatRequest(MODEL, [{"role": "user", "content": "hi"}]))
    assert (turn.thinking, turn.content) == ("hmm", "ok")


@pytest.mark.parametrize(
    "body",
    [
        b'data: {"choices": [{"index": 0, "delta": {"content": "Par"}}]}\n\n'
        b'data: {"object": "error", "message": "engine died", "type": "InternalServerError", "code": 500}\n\n',
        b'data: {"choices": [{"index": 0, "delta": {"content": "Par"}}]}\n\nevent: error\ndata: engine died\n\n',
    ],
    ids=["older-vllm-error-object", "sse-error-event"],
)
def test_other_mid_stream_error_shapes_keep_the_partial_text(body):
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    )
    with pytest.raises(ModelStreamError, match="engine died") as caught:
        OpenAIServer(transport=transport).chat(ChatRequest(MODEL, [{"role": "user", "content": "hi"}]))
    assert caught.value.partial_text == "Par"
    assert "not JSON" not in str(caught.value)  # an error event is the server's message, not a garbled chunk
