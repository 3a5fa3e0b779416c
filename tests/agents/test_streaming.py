"""Streamed runs: typed events arrive in order, sync and async."""

from __future__ import annotations

from castling import FinalEvent, TextDelta, ThinkingDelta, ToolCallEvent, ToolResultEvent, UsageEvent


def script(server):
    server.add_reply(thinking="Need both.", tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})])
    server.add_reply("Go to Paris: it is sunny.", chunk_size=5)


def kinds(events):
    """Event kinds with runs of the same delta kind collapsed (chunking is the server's business)."""
    collapsed: list[str] = []
    for event in events:
        if not (event.kind in ("text", "thinking") and collapsed and collapsed[-1] == event.kind):
            collapsed.append(event.kind)
    return collapsed


def check(events):
    assert kinds(events)[:2] == ["thinking", "usage"]
    assert kinds(events)[-3:] == ["text", "usage", "final"]
    assert sorted(kinds(events)[2:6]) == ["tool_call", "tool_call", "tool_result", "tool_result"]
    assert isinstance(events[0], ThinkingDelta)
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Need both."
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    results = [e for e in events if isinstance(e, ToolResultEvent)]
    assert [c.arguments["city"] for c in calls] == ["Paris", "Lyon"]
    assert [r.result for r in results] == ["sunny, 21 C", "rain, 15 C"]
    assert [c.call_id for c in calls] == [r.call_id for r in results]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Go to Paris: it is sunny."
    assert all(isinstance(e, UsageEvent) for e in events if e.kind == "usage")
    final = events[-1]
    assert isinstance(final, FinalEvent)
    assert final.result.answer == "Go to Paris: it is sunny."
    assert len(final.result.tool_calls) == 2


def test_stream_events_in_order(make_agent, server):
    script(server)
    events = list(make_agent().stream("Where to go?"))
    check(events)
    assert kinds(events)[2:6] == ["tool_call", "tool_result", "tool_call", "tool_result"]


async def test_astream_events_in_order(make_agent, server):
    script(server)
    events = [e async for e in make_agent().astream("Where to go?")]
    check(events)
    assert kinds(events)[2:6] == ["tool_call", "tool_call", "tool_result", "tool_result"]


def test_text_deltas_reach_the_caller_before_the_run_ends(make_agent, server):
    server.add_reply("one two three", chunk_size=4)
    stream = make_agent().stream("count")
    first = next(stream)
    assert isinstance(first, TextDelta)
    assert first.text == "one "
    rest = list(stream)
    assert isinstance(rest[-1], FinalEvent)


def streamed_text(events) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_a_call_written_as_text_is_not_streamed_as_the_answer(make_agent, server):
    server.add_reply('<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n</tool_call>', chunk_size=3)
    server.add_reply('{"name": "weather", "arguments": {"city": "Lyon"}}', chunk_size=3)
    server.add_reply("Paris is sunny, Lyon rainy.", chunk_size=4)
    events = list(make_agent().stream("Weather?"))
    assert [e.arguments["city"] for e in events if isinstance(e, ToolCallEvent)] == ["Paris", "Lyon"]
    assert streamed_text(events) == "Paris is sunny, Lyon rainy."
    assert kinds(events).index("tool_call") < kinds(events).index("text")


def test_text_before_a_call_streams_and_the_markup_does_not(make_agent, server):
    server.add_reply(
        'Let me check. <tool_call>{"name": "weather", "arguments": {"city": "Paris"}}</tool_call>', chunk_size=4
    )
    server.add_reply("Sunny.", chunk_size=4)
    events = list(make_agent().stream("Weather?"))
    assert streamed_text(events) == "Let me check. Sunny."
    assert isinstance(events[0], TextDelta) and events[0].text == "Let "  # not held: it cannot be a call


async def test_text_that_only_looks_like_a_call_is_streamed_whole(make_agent, server):
    server.add_reply('{"answer": 42} is the JSON, and <b>bold</b> is HTML.', chunk_size=5)
    events = [e async for e in make_agent().astream("Show JSON")]
    assert streamed_text(events) == '{"answer": 42} is the JSON, and <b>bold</b> is HTML.'
    assert events[-1].result.answer == '{"answer": 42} is the JSON, and <b>bold</b> is HTML.'
