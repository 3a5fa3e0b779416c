"""`qwen/long-conversation.yaml`, `llama/long-conversation.yaml`: a conversation that outgrows its window.

Seven questions on one thread under `num_ctx=2048`, each answered from a code cell that prints ~1.9 KB of log.
The scripted Ollama enforces its window as Ollama does (`WindowedOllama`), so the recorded requests show what
castling's compaction sends: old tool results cut to head and tail, then the older turns summarised (the summary
call is one more recorded model turn). Replay is exact and offline.
"""

from __future__ import annotations

from castling.scenarios.format import AgentConfig, Recording, Scenario
from castling.testing import WindowedOllama

from .common import NO_ERROR, ROOT, answer, called
from .constructed import _record_and_replay

QUESTIONS = [f"Print the log of day {day} with python and tell me if anything failed." for day in range(1, 8)]


def _code(day: int) -> str:
    return f"print(('day {day}: all services ok. ' * 70).strip())"


def build_long_context() -> None:
    """Record and replay the long conversation for both backbone families."""
    for family, model in (("qwen", "qwen3:8b"), ("llama", "llama3.1:8b")):
        capabilities = ("completion", "tools", "thinking") if family == "qwen" else ("completion", "tools")
        server = WindowedOllama(model, capabilities=capabilities)
        for day in range(1, 8):
            server.add_reply(tool_calls=[("run_python", {"code": _code(day)})])
            server.add_reply(f"Day {day}: nothing failed, all services were ok.")
        scenario = Scenario(
            id=f"{family}-long-conversation",
            task_id="long-conversation",
            description="Seven turns of big tool results under num_ctx=2048: compacted, never truncated.",
            tags=[family, "constructed", "context"],
            task=QUESTIONS[0],
            user_turns=QUESTIONS[1:],
            agent=AgentConfig(
                backbone=family, model=model, strategy="tools", think=False, num_ctx=2048, tools=["python"], max_steps=6
            ),
            recording=Recording(source="constructed"),
            expectations=[answer("", contains="Day 7: nothing failed"), called("run_python"), NO_ERROR],
        )
        _record_and_replay(scenario, server, ROOT / family / "long-conversation.yaml")
        assert not any(server.truncated), f"{family}: the server had to cut a prompt: {server.sizes}"
        assert server.summaries, f"{family}: nothing was summarised: {server.sizes}"
