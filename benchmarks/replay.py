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
    per_file: dict[Path, list[float]] = {path: [] for path in files}
    for index in range(args.rounds):
        begin = time.perf_counter()
        reports = []
        for path in files:
            one = time.perf_counter()
            reports.append(run_file(path))
            per_file[path].append(time.perf_counter() - one)
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
        slowest = sorted(files, key=lambda p: -statistics.median(per_file[p][1:]))[:5]
        print("slowest files (median of later rounds):")
        for path in slowest:
            first, later_ms = per_file[path][0] * 1000, statistics.median(per_file[path][1:]) * 1000
            print(
                f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {later_ms:.1f} ms"
                f" (first round {first:.1f} ms)"
            )
    print(f"offline guard on + off (patch and restore the socket module): {_guard_cost_us():.1f} µs")
    total = import_s + rounds[0]
    print(
        f"whole library, cold (import + first round): {total:.2f} s"
        f"  — target < 10 s: {'OK' if total < 10 else 'MISSED'}"
    )
    return 0 if total < 10 and not statuses.get("diverged") and not statuses.get("failed") else 1


def _guard_cost_us(times: int = 2000) -> float:
    from castling.scenarios.offline import offline

    begin = time.perf_counter()
    for _ in range(times):
        with offline("benchmark"):
            pass
    return (time.perf_counter() - begin) / times * 1e6


if __name__ == "__main__":
    raise SystemExit(main())
