"""Every request stays inside the context window: counted, compacted, and never silently truncated (#11)."""

import pytest

from castling import Agent, CompactionEvent, ContextOverflow, ContextPolicy, tool
from castling.backbones.context import SUMMARY_HEADER, estimate_text
from castling.backbones.qwen import Qwen
from castling.testing import WindowedOllama

SYSTEM = "You are a careful assistant. Always cite the log line you used."


def big_tool(text: str):
    @tool
    def read_log(day: int) -> str:
        """Read one day's log.

        Args:
            day: the day number.
        """
        return f"day {day}: " + text

    return read_log


def agent_on(server: WindowedOllama, text: str, **kwargs) -> Agent:
    backbone = Qwen("qwen3:8b", think=False, num_ctx=4096, transport=server.transport)
    return Agent(backbone, [big_tool(text)], system=SYSTEM, **kwargs)


def script_turns(server: WindowedOllama, turns: int) -> None:
    for day in range(turns):
        server.add_reply(tool_calls=[("read_log", {"day": day})])
        server.add_reply(f"Day {day} looked fine.")


def test_the_estimate_follows_the_script_not_english():
    assert estimate_text("a" * 400) == 100
    assert estimate_text("日" * 400) == 400  # CJK: about one token per character
    assert estimate_text("م" * 400) == 200  # Arabic: about two characters per token


def test_a_30_turn_thread_of_3kb_tool_results_never_overflows_4096_tokens():
    server = WindowedOllama()
    script_turns(server, 30)
    agent = agent_on(server, "ok " * 1000)  # ~3 KB per result
    compactions = []
    for day in range(30):
        for event in agent.stream(f"How was day {day}?", thread_id="logs"):
            if isinstance(event, CompactionEvent):
                compactions.append(event)
    assert server.pending == 0
    assert not any(server.truncated), f"the server cut prompts {[i for i, t in enumerate(server.truncated) if t]}"
    assert max(server.sizes) <= 4096
    assert compactions and compactions[-1].window == 4096
    last = server.requests[-1]["messages"]
    assert last[0]["role"] == "system" and last[0]["content"].startswith(SYSTEM)  # the system prompt, whole
    assert SUMMARY_HEADER in last[0]["content"] and server.summaries  # older turns summarised, by the model
    assert any(c.summarised for c in compactions) and any(c.elided for c in compactions)
    assert [m["content"] for m in last if m["role"] == "user"][-1] == "How was day 29?"
    results = [m for m in last if m["role"] == "tool"]
    assert results[-1]["content"] == "day 29: " + "ok " * 1000  # the latest result whole
    # every assistant call still has its result right after it: nothing split
    for index, message in enumerate(last):
        if message.get("tool_calls"):
            assert last[index + 1]["role"] == "tool"


def test_the_checkpoint_keeps_the_full_history():
    server = WindowedOllama()
    script_turns(server, 8)
    agent = agent_on(server, "ok " * 1000)
    for day in range(8):
        result = agent.run(f"How was day {day}?", thread_id="t")
    assert any("elided" in m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool")
    stored = [m.content for m in result.messages if m.type == "tool"]
    assert stored and all(content.endswith("ok " * 999 + "ok ") for content in stored)
    assert result.usage.context_window == 4096
    assert 0 < result.usage.peak_prompt_tokens <= 4096


def test_cjk_tool_output_is_counted_as_cjk():
    server = WindowedOllama()
    script_turns(server, 6)
    agent = agent_on(server, "日志正常。" * 250)  # 1250 CJK characters: ~1250 tokens each, not ~310
    for day in range(6):
        agent.run(f"How was day {day}?", thread_id="cjk")
    assert not any(server.truncated)
    assert max(server.sizes) <= 4096


def test_context_error_raises_with_the_figures_instead_of_sending():
    server = WindowedOllama()
    script_turns(server, 6)
    agent = agent_on(server, "ok " * 1000, context="error")
    for day in range(2):
        agent.run(f"How was day {day}?", thread_id="e")
    with pytest.raises(ContextOverflow) as caught:
        agent.run("How was day 2?", thread_id="e")
    assert caught.value.window == 4096 and caught.value.tokens > 3000
    assert "num_ctx" in str(caught.value) and "context='compact'" in str(caught.value)
    assert not any(server.truncated)


def test_a_prompt_the_server_cut_is_compacted_and_sent_again():
    # A policy that leaves no room for the reply estimate lets the first over-long prompt through; the server
    # cuts it, the guard sees prompt_eval_count at the window, compacts, and sends it again once.
    server = WindowedOllama()
    server.add_reply(tool_calls=[("read_log", {"day": 1})])
    server.add_reply("cut")  # answered from a cut prompt: must never be returned
    server.add_reply("Day 1 looked fine.")
    policy = ContextPolicy(reply_tokens=0)
    agent = agent_on(server, "ok " * 4200, context=policy)  # one result of ~4200 server tokens
    result = agent.run("How was day 1?")
    assert server.truncated == [False, True, False]
    assert result.answer == "Day 1 looked fine."
    assert "elided" in server.requests[-1]["messages"][-1]["content"]


def test_off_sends_as_is():
    server = WindowedOllama()
    script_turns(server, 3)
    agent = agent_on(server, "ok " * 2000, context="off")
    for day in range(3):
        agent.run(f"How was day {day}?", thread_id="off")
    assert any(server.truncated)


def test_arabic_tool_output_is_counted_as_arabic_and_never_overflows():
    # Each result alone is over the window in the server's count (~4,300 tokens) but only ~1,800 by an
    # English-only estimate: counted as English, the first one would be sent whole and cut by the server.
    server = WindowedOllama()
    script_turns(server, 4)
    text = "السجل سليم اليوم. " * 400  # 7,200 characters of Arabic
    agent = agent_on(server, text)
    for day in range(4):
        agent.run(f"How was day {day}?", thread_id="ar")
    assert server.pending == 0
    assert not any(server.truncated), f"the server cut prompts {[i for i, t in enumerate(server.truncated) if t]}"
    assert max(server.sizes) <= 4096
    latest = server.requests[-1]["messages"][-1]["content"]
    assert latest.startswith("day 3: السجل سليم") and "characters of this read_log result elided" in latest


def test_a_user_message_bigger_than_the_window_says_to_send_less_not_to_turn_compaction_on():
    server = WindowedOllama()
    agent = agent_on(server, "ok")
    with pytest.raises(ContextOverflow) as caught:
        agent.run("Summarise this: " + "word " * 6000)  # compaction never cuts the user's own message
    assert "send less at once" in str(caught.value) and "context='compact'" not in str(caught.value)
    assert server.requests == []  # refused before anything was sent


def test_the_window_is_num_ctx_on_ollama_and_the_models_length_elsewhere():
    from castling.backbones.context import ContextGuard
    from castling.backbones.wire import ChatRequest

    request = ChatRequest("m", [], options={"num_ctx": 4096})
    assert ContextGuard().window(request, 32768, "ollama") == 4096
    assert ContextGuard().window(request, 32768, "openai") == 32768  # vLLM holds max_model_len, num_ctx is dropped
