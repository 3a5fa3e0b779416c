"""Per-step cost of the plan strategy beside the tools strategy, on the same scripted Ollama and the same tool.

The model is `castling.testing.ScriptedOllama` (answers instantly through an in-process httpx transport), so the
figures are castling's own overhead per step: request building, streaming/parsing the NDJSON, graph routing,
tool dispatch, checkpoint-free state updates. A step is one tool call:

- tools strategy: one model call per step (plus the final answer);
- plan strategy:  two model calls per step (executor + re-planner; plus the planner).

Run: .venv/bin/python benchmarks/plan_overhead.py [--steps 8] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from castling import Agent, Llama, tool
from castling.backbones.wire import ChatRequest
from castling.testing import ScriptedOllama


@tool
def weather(city: str) -> str:
    """Current weather in a city."""
    return f"{city}: sunny, 21 C"


def script_tools(server: ScriptedOllama, steps: int) -> None:
    for i in range(steps):
        server.add_reply(f"[weather(city='City{i}')]")
    server.add_reply("All sunny.")


def script_plan(server: ScriptedOllama, steps: int) -> None:
    goals = [{"goal": f"Get the weather in City{i}", "tool": "weather"} for i in range(steps)]
    server.add_reply(json.dumps({"steps": goals, "answer": None}))
    for i in range(steps):
        server.add_reply(json.dumps({"tool": "weather", "arguments": {"city": f"City{i}"}, "answer": None}))
        rest = goals[i + 1 :]
        decision = {"done": not rest, "answer": "All sunny." if not rest else None, "steps": rest}
        server.add_reply(json.dumps(decision))


def script_raw(server: ScriptedOllama, calls: int) -> None:
    for _ in range(calls):
        server.add_reply('{"tool": "weather", "arguments": {"city": "Paris"}, "answer": null}')


Case = tuple[Callable[[], None], Callable[[], object]]


def timed(cases: list[Case], repeat: int) -> list[float]:
    """Median seconds of each case's run over `repeat` rounds (after one warm-up round).

    The cases take turns within each round, so a change in machine load hits them alike; preparing the script
    is not timed.
    """
    samples: list[list[float]] = [[] for _ in cases]
    for index in range(repeat + 1):
        for case, (prepare, run) in enumerate(cases):
            prepare()
            start = time.perf_counter()
            run()
            if index:
                samples[case].append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    steps, repeat = args.steps, args.repeat
    task = "Weather in every city?"

    server = ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))
    backbone = Llama("llama3.2:3b", transport=server.transport)
    tools_agent = Agent(backbone, tools=[weather], strategy="tools", max_steps=steps + 2)
    plan_agent = Agent(backbone, tools=[weather], strategy="plan", max_steps=steps + 2)
    request = ChatRequest(model="llama3.2:3b", messages=[{"role": "user", "content": task}], options={"num_ctx": 16384})

    raw, tools, plan = timed(
        [
            (lambda: script_raw(server, steps), lambda: [backbone.ollama.chat(request) for _ in range(steps)]),
            (lambda: script_tools(server, steps), lambda: tools_agent.run(task)),
            (lambda: script_plan(server, steps), lambda: plan_agent.run(task)),
        ],
        repeat,
    )
    assert server.pending == 0

    per_call = raw / steps * 1000
    tools_step, plan_step = tools / steps * 1000, plan / steps * 1000
    print(f"steps per run: {steps}, runs: {repeat} interleaved (median), scripted model, one tool call per step")
    print(f"scripted chat call alone      : {per_call:7.2f} ms/call")
    print(f"tools strategy ({steps + 1} model calls): {tools_step:7.2f} ms/step  ({tools * 1000:.1f} ms/run)")
    print(f"plan strategy ({2 * steps + 1} model calls): {plan_step:7.2f} ms/step  ({plan * 1000:.1f} ms/run)")
    print(f"plan / tools per step         : {plan_step / tools_step:7.2f}x")
    tools_call, plan_call = tools / (steps + 1) * 1000, plan / (2 * steps + 1) * 1000
    print(f"per model call: tools {tools_call:.2f} ms, plan {plan_call:.2f} ms (scripted call alone {per_call:.2f} ms)")


if __name__ == "__main__":
    main()
