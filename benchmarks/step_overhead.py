"""Framework cost per agent step, measured side by side in one process (see shared/reference/performance.md).

A step is one model call plus one tool call; the model is scripted (`add(a=k, b=1)` N-1 times, then an answer).
  castling   Agent(Qwen) with the ollama client over an injected httpx.MockTransport
  lean       a hand-written LangGraph StateGraph (dict state, plain nodes), same client and transport: the floor
  create_agent  langchain.agents.create_agent with a scripted chat model (no HTTP at all), as the issue asks
  create_agent+http  the same, its chat model streaming from the same scripted transport through the ollama
                client (the like-for-like comparison: castling and lean pay for that wire work too)
  castling plan  Agent(Llama, strategy="plan") on the same kind of scripted transport (`PlanCountingOllama`):
                a plan of N `add` steps. One plan step = one executor call (JSON-schema `format`), the `add`
                tool run through the Toolbox, and one re-planner call that keeps the plan: 2 model calls per
                step (the tools strategy: 1). The planner call and the final answer are in the per-run cost.
  castling plan lazy  the same with replan="when_needed": the executor vouches for the plan ("on_track"), so a
                step is 1 model call + the tool; the re-planner runs once, after the last step (per-run cost).
  castling openai  Agent(Qwen(..., server="openai")): the tools strategy on the OpenAI-compatible wire, streaming
                vLLM-shaped SSE from `CountingOpenAI` (same script); targets: within 1.1x of `castling` (the
                Ollama wire) and within 1.5x of the lean floor, per step
  lean openai   the lean graph on that wire, reading the SSE with httpx (`_openai_wire.py`): the OpenAI floor
per step = (t(N=50) - t(N=1)) / 49, per run = t(N=1); medians over rounds. Ratios are within this run.
`--openai-only` measures only the two OpenAI-wire rows; `--cpu` times in CPU time (less disturbed by other jobs).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import ollama

from _lean import ADD_SCHEMA, LeanState, add, lean_graph
from _openai_wire import castling_openai_runner, lean_openai_runner
from _scripted import CountingOllama, CountingOpenAI, PlanCountingOllama
from castling import Agent, Llama, Qwen

LONG, ROUNDS, REPEATS = 50, 7, 5
_clock = time.perf_counter
"""What `timed` reads: wall-clock time, or CPU time with `--cpu`."""


# -- castling -------------------------------------------------------------------------------------------------
def castling_runner(server: CountingOllama) -> tuple[Callable[[], Any], Callable[[], Any]]:
    agent = Agent(Qwen("qwen3:8b", transport=server.transport), tools=[add], max_steps=LONG + 5)
    return (lambda: agent.run("count")), (lambda: agent.arun("count"))


def castling_plan_runner(
    server: CountingOllama, *, replan: Any = "every_step"
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    backbone = Llama("llama3.2:3b", transport=server.transport)
    agent = Agent(backbone, tools=[add], strategy="plan", max_steps=LONG + 5, replan=replan)
    return (lambda: agent.run("count")), (lambda: agent.arun("count"))


SERVERS: dict[str, type[CountingOllama]] = {
    "castling plan": PlanCountingOllama,
    "castling plan lazy": PlanCountingOllama,
    "castling openai": CountingOpenAI,
    "lean openai": CountingOpenAI,
}
"""Runners whose scripted transport is not the tools-loop one."""


# -- lean LangGraph -------------------------------------------------------------------------------------------
def lean_runner(server: CountingOllama) -> tuple[Callable[[], Any], Callable[[], Any]]:
    client = ollama.Client("http://127.0.0.1:11434", transport=server.transport)
    aclient = ollama.AsyncClient("http://127.0.0.1:11434", transport=server.transport)

    def accumulate(chunks: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        for chunk in chunks:
            message["content"] += chunk.message.content or ""
            if chunk.message.tool_calls:
                message["tool_calls"] = [
                    {"function": {"name": c.function.name, "arguments": dict(c.function.arguments)}}
                    for c in chunk.message.tool_calls
                ]
        return message

    def model(state: LeanState) -> dict[str, Any]:
        chunks = client.chat("qwen3:8b", state["messages"], tools=[ADD_SCHEMA], stream=True, options={"num_ctx": 8192})
        return {"messages": [accumulate(chunks)]}

    async def amodel(state: LeanState) -> dict[str, Any]:
        stream = await aclient.chat(
            "qwen3:8b", state["messages"], tools=[ADD_SCHEMA], stream=True, options={"num_ctx": 8192}
        )
        return {"messages": [accumulate([c async for c in stream])]}

    def tools(state: LeanState) -> dict[str, Any]:
        calls = state["messages"][-1]["tool_calls"]
        return {
            "messages": [
                {"role": "tool", "tool_name": c["function"]["name"], "content": str(add(**c["function"]["arguments"]))}
                for c in calls
            ]
        }

    sync_graph, async_graph = lean_graph(model, tools), lean_graph(amodel, tools)
    inputs = {"messages": [{"role": "user", "content": "count"}]}
    config = {"recursion_limit": 200}
    return (lambda: sync_graph.invoke(inputs, config)), (lambda: async_graph.ainvoke(inputs, config))


# -- langchain create_agent -----------------------------------------------------------------------------------
def create_agent_runner(
    server: CountingOllama, *, over_http: bool = False
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    from langchain.agents import create_agent
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    client = ollama.Client("http://127.0.0.1:11434", transport=server.transport)

    def scripted_reply() -> AIMessage:
        server.calls += 1
        if server.calls >= server.steps:
            return AIMessage("done")
        call = {"name": "add", "args": {"a": server.calls, "b": 1}, "id": f"c{server.calls}"}
        return AIMessage("", tool_calls=[call])

    def reply_over_http(messages: Any) -> AIMessage:
        # The same wire work castling does: the ollama client streaming from the same scripted transport.
        wire = [{"role": "user", "content": str(m.content)} for m in messages]
        calls, text = [], ""
        for chunk in client.chat("qwen3:8b", wire, tools=[ADD_SCHEMA], stream=True, options={"num_ctx": 8192}):
            text += chunk.message.content or ""
            for i, c in enumerate(chunk.message.tool_calls or ()):
                calls.append({"name": c.function.name, "args": dict(c.function.arguments), "id": f"c{i}"})
        return AIMessage(text, tool_calls=calls)

    class ScriptedChat(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "scripted"

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

        def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
            message = reply_over_http(messages) if over_http else scripted_reply()
            return ChatResult(generations=[ChatGeneration(message=message)])

    agent = create_agent(ScriptedChat(), tools=[add])
    inputs = {"messages": [{"role": "user", "content": "count"}]}
    config = {"recursion_limit": 200}
    return (lambda: agent.invoke(inputs, config)), (lambda: agent.ainvoke(inputs, config))


# -- measurement ----------------------------------------------------------------------------------------------
def timed(server: CountingOllama, run: Callable[[], Any], steps: int, is_async: bool) -> float:
    async def many_async() -> None:
        for _ in range(REPEATS):
            server.start(steps)
            await run()

    start = _clock()
    if is_async:
        asyncio.run(many_async())
    else:
        for _ in range(REPEATS):
            server.start(steps)
            run()
    return (_clock() - start) / REPEATS


def measure(builders: dict[str, Any]) -> dict[tuple[str, str], tuple[float, float]]:
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    servers = {name: SERVERS.get(name, CountingOllama)() for name in builders}
    runners = {name: build(servers[name]) for name, build in builders.items()}
    for name, (sync_run, async_run) in runners.items():  # warm up imports, caches and /api/show
        timed(servers[name], sync_run, 3, False)
        timed(servers[name], async_run, 3, True)
    for _ in range(ROUNDS):
        for name, (sync_run, async_run) in runners.items():
            for mode, run in (("sync", sync_run), ("async", async_run)):
                short = timed(servers[name], run, 1, mode == "async")
                long = timed(servers[name], run, LONG, mode == "async")
                samples.setdefault((name, mode), []).append(((long - short) / (LONG - 1), short))
    return {
        key: (statistics.median(s for s, _ in values), statistics.median(r for _, r in values))
        for key, values in samples.items()
    }


def help_time() -> tuple[float, float]:
    def run(args: list[str]) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return run([sys.executable, "-m", "castling.cli.main", "--help"]), run([sys.executable, "-c", "pass"])


def openai_only() -> None:
    """`--openai-only [--cpu]`: only the two OpenAI-wire rows, their ratio per step and per run.

    With `--cpu` the times are CPU time (`time.process_time`, every thread of this process), which other jobs on a
    shared machine disturb less than wall-clock time; alternate runs of two versions to compare them.
    """
    results = measure(
        {
            "castling openai": lambda server: castling_openai_runner(server, LONG + 5),
            "lean openai": lambda server: lean_openai_runner(server, LONG + 5),
        }
    )
    for mode in ("sync", "async"):
        (step, run), (lean_step, lean_run) = results[("castling openai", mode)], results[("lean openai", mode)]
        print(
            f"{mode:<6} castling openai {step * 1e3:.2f} ms/step, lean openai {lean_step * 1e3:.2f}:"
            f" {step / lean_step:.2f}x per step, {run / lean_run:.2f}x per run"
        )


def main() -> None:
    if "--cpu" in sys.argv:
        global _clock
        _clock = time.process_time
    if "--openai-only" in sys.argv:
        openai_only()
        return
    results = measure(
        {
            "lean": lean_runner,
            "castling": castling_runner,
            "create_agent": create_agent_runner,
            "create_agent+http": lambda server: create_agent_runner(server, over_http=True),
            "castling plan": castling_plan_runner,
            "castling plan lazy": lambda server: castling_plan_runner(server, replan="when_needed"),
            "castling openai": lambda server: castling_openai_runner(server, LONG + 5),
            "lean openai": lambda server: lean_openai_runner(server, LONG + 5),
        }
    )
    print(f"per-step and per-run cost, median of {ROUNDS} rounds x {REPEATS} runs (N=1 and N={LONG} steps)")
    print(f"{'implementation':<19}{'mode':<7}{'ms/step':>9}{'ms/run':>9}{'step vs lean':>14}{'run vs lean':>13}")
    for (name, mode), (step, run) in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lean_step, lean_run = results[("lean", mode)]
        print(
            f"{name:<19}{mode:<7}{step * 1e3:>9.2f}{run * 1e3:>9.2f}{step / lean_step:>13.2f}x{run / lean_run:>12.2f}x"
        )
    for mode in ("sync", "async"):
        for baseline in ("create_agent", "create_agent+http"):
            speedup = results[(baseline, mode)][0] / results[("castling", mode)][0]
            print(f"{baseline} / castling per step ({mode}): {speedup:.2f}x")
    for mode in ("sync", "async"):
        plan, lazy = results[("castling plan", mode)][0], results[("castling plan lazy", mode)][0]
        tools = results[("castling", mode)][0]
        print(
            f"castling plan / castling (tools) per step ({mode}): {plan / tools:.2f}x"
            f" (plan: 2 model calls per step; lazy, 1 call: {lazy / tools:.2f}x)"
        )
    for mode in ("sync", "async"):
        on_openai = results[("castling openai", mode)][0]
        print(
            f"castling on the OpenAI wire per step ({mode}): {on_openai / results[('castling', mode)][0]:.2f}x"
            f" the Ollama wire (target <= 1.10x), {on_openai / results[('lean', mode)][0]:.2f}x the lean floor"
            f" (target <= 1.50x), {on_openai / results[('lean openai', mode)][0]:.2f}x the lean OpenAI floor"
        )
    help_s, bare_s = help_time()
    print(f"`castling --help`: {help_s * 1e3:.0f} ms (bare `python -c pass`: {bare_s * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
