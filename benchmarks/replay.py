"""Wall time to replay the whole scenario library (target: < 10 s on 2 cores).

    .venv/bin/python benchmarks/replay.py [--rounds 5]

Each round loads every scenario file, builds its agent and replays it strictly (expectations included), in
one process, the way `pytest scenarios/` and `castling replay scenarios/` do. The first round includes the
one-off imports (langgraph, langchain-core, ollama); later rounds show the steady state.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "scenarios")])
    args = parser.parse_args()

    started = time.perf_counter()
    from castling.scenarios.runner import run_file
    from castling.scenarios.store import discover

    files = discover(args.paths)
    import_s = time.perf_counter() - started
    rounds = []
    statuses: dict[str, int] = {}
    for index in range(args.rounds):
        begin = time.perf_counter()
        reports = [run_file(path) for path in files]
        rounds.append(time.perf_counter() - begin)
        if index == 0:
            for report in reports:
                statuses[report.status] = statuses.get(report.status, 0) + 1
    turns = sum(len(r.scenario.model_turns) for r in reports if r.scenario)
    print(f"scenario files: {len(files)}  ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})")
    print(f"model turns replayed per round: {turns}   cpus: {os.cpu_count()}")
    print(f"import of castling.scenarios: {import_s:.2f} s")
    print(f"first round (includes agent imports): {rounds[0]:.2f} s")
    if len(rounds) > 1:
        later = rounds[1:]
        print(f"later rounds: median {statistics.median(later):.3f} s, min {min(later):.3f} s, max {max(later):.3f} s")
    total = import_s + rounds[0]
    print(
        f"whole library, cold (import + first round): {total:.2f} s"
        f"  — target < 10 s: {'OK' if total < 10 else 'MISSED'}"
    )
    return 0 if total < 10 and not statuses.get("diverged") and not statuses.get("failed") else 1


if __name__ == "__main__":
    raise SystemExit(main())
