"""Harness overhead of `castling eval` per run, against the agent run alone (same loopback scripted server).

    .venv/bin/python benchmarks/eval_overhead.py [--runs 40]

Three ways of running the library's `no-tool` task against a `ScriptedOllama` behind a loopback port, all
through one shared connection pool: the agent alone (`Qwen(...)` + `Agent(...).run` with the scenario's
tools), one eval run (`run_one`: the agent built from the file, expectations checked, figures kept), and one
eval run recorded as a scenario file (`--record`). Medians per run; the differences are the harness's cost.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    import httpx

    from castling.agents.agent import Agent
    from castling.backbones.qwen import Qwen
    from castling.scenarios.eval.plan import plan_runs
    from castling.scenarios.eval.run import SharedNetwork, run_one
    from castling.scenarios.execute import build_tools
    from castling.scenarios.serve import TransportServer
    from castling.scenarios.store import load
    from castling.testing import ScriptedOllama

    script = ScriptedOllama("qwen3:8b")
    for _ in range(args.runs * 3 + 6):
        script.add_reply("The capital of Italy is Rome.")
    server = TransportServer(script.transport, port=0).start()
    scenario = load(ROOT / "scenarios" / "qwen" / "no-tool.yaml")
    spec = plan_runs([scenario], ["qwen3:8b"])[0]

    def agent_alone() -> None:
        tools = build_tools(scenario, None)  # the same tools the scenario offers (`weather`)
        backbone = Qwen("qwen3:8b", host=server.url, transport=SharedNetwork(network))  # same pool: a fair base
        with Agent(backbone, tools, max_steps=6) as agent:
            agent.run(scenario.task)

    network = httpx.HTTPTransport()  # one pool shared between runs, as `run_all` does
    with tempfile.TemporaryDirectory() as folder:
        ways: dict[str, Callable[[], object]] = {
            "agent alone": agent_alone,
            "eval run": lambda: run_one(spec, server.url, None, network),
            "eval run, recorded": lambda: run_one(spec, server.url, Path(folder), network),
        }
        for way in ways.values():
            way()  # warm-up: imports, first connections
        timings: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.runs):
            for name, way in ways.items():  # interleaved, so load changes hit all three alike
                started = time.perf_counter()
                outcome = way()
                timings[name].append(time.perf_counter() - started)
                assert outcome is None or getattr(outcome, "passed", False), outcome
    server.stop()
    base = statistics.median(timings["agent alone"])
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:20s} median {median * 1000:7.1f} ms  (+{(median - base) * 1000:6.1f} ms over the agent alone)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
