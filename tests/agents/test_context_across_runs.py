"""The context window across runs: a resumed thread, an approval pause, and the plan strategy's step results (#11).

`WindowedOllama` enforces the window the way Ollama does (front truncation, `prompt_eval_count` of what it kept);
the assertions are on the requests it received.
"""

from castling import Agent, ApprovalEvent, CompactionEvent, Decision, FinalEvent, Llama, Qwen, Resume, tool
from castling.backbones.context import SUMMARY_PROMPT
from castling.testing import WindowedOllama
from tests.agents.plan_script import act, done, last_user, more, plan

LOG = "ok " * 1000  # ~3 KB, ~1,000 tokens by the server's count


@tool
def read_log(day: int) -> str:
    """Read one day's log.

    Args:
        day: the day number.
    """
    return f"day {day}: {LOG}"


def model_requests(server: WindowedOllama) -> list[dict]:
    """The requests the agent made, without castling's summary calls."""
    return [r for r in server.requests if r["messages"][0]["content"] != SUMMARY_PROMPT]


def assert_whole_pairs(messages: list[dict]) -> None:
    """Every assistant tool call is followed by its result: compaction split nothing."""
    for index, message in enumerate(messages):
        if message.get("tool_calls"):
            assert messages[index + 1]["role"] == "tool"


def script_days(server: WindowedOllama, days: range) -> None:
    for day in days:
        server.add_reply(tool_calls=[("read_log", {"day": day})])
        server.add_reply(f"Day {day} looked fine.")


def test_a_thread_resumed_over_a_smaller_window_is_compacted_on_its_first_request(tmp_path):
    database = f"sqlite:///{tmp_path / 'sessions.db'}"
    first = WindowedOllama()
    script_days(first, range(6))
    backbone = Qwen("qwen3:8b", think=False, num_ctx=16384, transport=first.transport)
    with Agent(backbone, [read_log], checkpointer=database) as agent:
        for day in range(6):
            agent.run(f"How was day {day}?", thread_id="logs")
    assert max(first.sizes) > 4096  # the stored thread is already over the window the next session uses

    later = WindowedOllama()
    script_days(later, range(6, 7))
    backbone = Qwen("qwen3:8b", think=False, num_ctx=4096, transport=later.transport)
    with Agent(backbone, [read_log], checkpointer=database) as agent:
        events = list(agent.stream("How was day 6?", thread_id="logs"))
        stored = agent.graph.get_state({"configurable": {"thread_id": "logs"}}).values["messages"]
    assert not any(later.truncated), "the first request after resuming was sent over the window"
    assert max(later.sizes) <= 4096
    compactions = [e for e in events if isinstance(e, CompactionEvent)]
    assert compactions and compactions[0].tokens_before > 4096 >= compactions[0].tokens_after
    sent = model_requests(later)[0]["messages"]
    assert sent[-1] == {"role": "user", "content": "How was day 6?"}
    assert_whole_pairs(sent)
    assert [m.content for m in stored if m.type == "tool"].count(f"day 0: {LOG}") == 1  # the checkpoint: all of it


async def test_an_approval_pause_across_compaction_runs_the_tool_once_and_resumes_compacted():
    ran = []

    @tool
    def run_python(code: str) -> str:
        """Run Python code."""
        ran.append(code)
        return f"ran {code}"

    server = WindowedOllama()
    script_days(server, range(5))
    server.add_reply(tool_calls=[("run_python", {"code": "sum(days)"})])
    server.add_reply("All five days were fine.")
    backbone = Qwen("qwen3:8b", think=False, num_ctx=4096, transport=server.transport)
    agent = Agent(backbone, [read_log, run_python], approve={"run_python"})
    for day in range(5):
        await agent.arun(f"How was day {day}?", thread_id="t")
    paused = [e async for e in agent.astream("Sum them up with Python.", thread_id="t")]
    assert isinstance(paused[-1], ApprovalEvent) and ran == []
    asked = len(server.requests)

    events = [e async for e in agent.astream(Resume(Decision("run")), thread_id="t")]
    assert ran == ["sum(days)"]  # run once, after the approval, not again on the compacted retry
    assert isinstance(events[-1], FinalEvent) and events[-1].result.answer == "All five days were fine."
    resumed = [r for r in model_requests(server)[-1:] if server.requests.index(r) >= asked]
    assert resumed, "no model request after the approval"
    sent = resumed[0]["messages"]
    assert not any(server.truncated) and max(server.sizes) <= 4096
    assert sent[-1] == {"role": "tool", "content": "ran sum(days)", "tool_name": "run_python"}
    assert sent[-2]["tool_calls"][0]["function"]["name"] == "run_python"
    assert "Sum them up with Python." in [m["content"] for m in sent if m["role"] == "user"]
    assert_whole_pairs(sent)
    assert any("elided" in m["content"] for m in sent if m["role"] == "tool") or "Summary" in sent[0]["content"]


def test_a_plan_run_with_big_step_results_fits_a_small_window_and_says_what_it_cut():
    @tool
    def page(url: str) -> str:
        """Fetch a page."""
        return f"{url}: " + "words " * 1200  # 7 KB, ~2,400 tokens by the server's count

    steps = [(f"Read page {n}", "page") for n in range(4)]
    server = WindowedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    server.add_reply(plan(*steps))
    for n in range(4):
        server.add_reply(act("page", url=f"http://example.test/{n}"))
        server.add_reply(more(*steps[n + 1 :]) if n < 3 else done("Four pages of words."))
    backbone = Llama(server.model, think=False, num_ctx=4096, transport=server.transport)
    result = Agent(backbone, [page]).run("What do the four pages say?")
    assert result.answer == "Four pages of words." and server.pending == 0
    assert not any(server.truncated), f"the server cut prompts {[i for i, t in enumerate(server.truncated) if t]}"
    assert max(server.sizes) <= 4096
    progress = last_user(server.requests[-1])
    for n in range(4):  # every step's result is quoted, each cut to its share of the window, and says so
        assert f"http://example.test/{n}: words" in progress
    assert progress.count("more characters cut to fit the context window") == 4
    assert all(len(step.outcome) > 7000 for step in result.steps)  # the record keeps everything
