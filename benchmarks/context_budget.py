"""What the context guard costs (issue #11), measured in one process; ratios are within this run.

1. Budgeting per step: the same 50-step tools-loop run (scripted transport, see `_scripted.py`) with
   `context="off"` and with the default `context="compact"` (which estimates and checks every request, and
   compacts nothing here: the thread fits). per step = (t(N=50) - t(N=1)) / 49, medians over rounds.
2. The guard alone: `ContextGuard.fit` + `learn` on a request of a 50-message thread (µs per call).
3. Compacting a 200-turn thread (3 KB tool results, num_ctx 8192): the shrinking passes, and the splice of
   the older turns' summary (the summary's model call itself is not timed: it is a model call).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _scripted import CountingOllama
from castling import Agent, Qwen
from castling.backbones.context import ContextGuard
from castling.backbones.usage import Usage
from castling.backbones.wire import ChatRequest, ChatTurn

LONG, ROUNDS = 50, 7


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def runner(context: str) -> Callable[[int], float]:
    server = CountingOllama()
    agent = Agent(Qwen("qwen3:8b", transport=server.transport), tools=[add], max_steps=LONG + 5, context=context)

    def timed(steps: int) -> float:
        server.start(steps)
        start = time.perf_counter()
        agent.run("count")
        return time.perf_counter() - start

    timed(LONG)  # warm-up
    return timed


def per_step(contexts: tuple[str, ...]) -> dict[str, float]:
    """ms per step for each context mode, rounds interleaved so that machine noise hits both alike."""
    runs = {context: runner(context) for context in contexts}
    rounds: dict[str, list[float]] = {context: [] for context in contexts}
    for _ in range(ROUNDS):
        for context, timed in runs.items():
            rounds[context].append((timed(LONG) - timed(1)) / (LONG - 1))
    return {context: statistics.median(values) * 1000 for context, values in rounds.items()}


def thread(turns: int, result: str) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = [{"role": "system", "content": "You are careful."}]
    for day in range(turns):
        messages.append({"role": "user", "content": f"How was day {day}?"})
        call = {"function": {"name": "read_log", "arguments": {"day": day}}}
        messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        messages.append({"role": "tool", "tool_name": "read_log", "content": result})
        messages.append({"role": "assistant", "content": f"Day {day} was fine."})
    return messages


def micro(label: str, fn: object, repeats: int = 200) -> float:
    call = fn  # type: ignore[assignment]
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            call()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) / repeats)
    value = statistics.median(samples) * 1e6
    print(f"  {label:<52} {value:9.1f} µs")
    return value


def main() -> None:
    steps = per_step(("off", "compact"))
    off, on = steps["off"], steps["compact"]
    print("Budgeting per step (tools loop, scripted model, 50 steps):")
    print(f"  context='off'      {off:6.3f} ms/step")
    print(f"  context='compact'  {on:6.3f} ms/step   ({(on - off) / off * 100:+.1f} % of the step overhead)")

    guard = ContextGuard()
    small = ChatRequest("qwen3:8b", thread(12, "ok " * 100)[:50], options={"num_ctx": 32768})
    turn = ChatTurn(usage=Usage(prompt_tokens=4000, calls=1))
    print("The guard alone:")
    both = lambda: (guard.fit(small, 32768), guard.learn(small, turn, 32768))  # noqa: E731
    guard_us = micro("fit + learn, 50-message request that fits", both)
    print(f"  = {guard_us / 10 / off:.1f} % of the measured step overhead (target < 5 %)")

    big = ChatRequest("qwen3:8b", thread(200, "ok " * 1000), options={"num_ctx": 8192})
    print(f"Compacting a 200-turn thread ({len(big.messages)} messages, 3 KB tool results, num_ctx 8192):")
    fresh = ContextGuard()
    micro("shrink passes (fit, asks for a summary)", lambda: fresh.fit(big, 8192), repeats=5)
    fit = fresh.fit(big, 8192)
    micro("splice the summary in (summarised)", lambda: fresh.summarised(fit, "Days were fine.", 8192), repeats=20)
    after = fresh.summarised(fit, "Days were fine.", 8192)
    before_tokens = fresh.estimate(big)
    print(f"  ~{before_tokens:,} → ~{fresh.estimate(after.request):,} tokens, {len(after.request.messages)} messages")


if __name__ == "__main__":
    main()
