"""`castling replay -j 2` against serial, and `pytest -n 2` against `-n 0`, on a generated 1,000-file suite.

    .venv/bin/python benchmarks/replay_parallel.py [--files 1000] [--pytest] [--repeat 1]

The suite is generated into a temporary `scenarios/` folder from the library's own files (every file under
`scenarios/` at the repo root, cycled, each copy with a distinct `id`; blobs copied beside them). Each command runs
in a fresh subprocess, so the figures include interpreter start-up and imports, as a user sees them. Also printed:
the import time of what a worker needs (the parent imports it once before forking its workers), and the load
average, since on a shared 2-core machine other jobs decide most of what parallelism can give.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASTLING = [sys.executable, "-m", "castling"]


def generate(target: Path, count: int) -> int:
    """`count` scenario files in `target`, copies of the library's files with distinct ids; the number written."""
    from castling.scenarios.store import discover

    sources = [p for p in discover([ROOT / "scenarios"]) if "blobs" not in p.parts]
    for index in range(count):
        source = sources[index % len(sources)]
        folder = target / source.parent.relative_to(ROOT / "scenarios")
        if not folder.exists():
            folder.mkdir(parents=True)
            if (source.parent / "blobs").is_dir():
                shutil.copytree(source.parent / "blobs", folder / "blobs")
        text = re.sub(r"^id: (.*)$", rf"id: \1-{index}", source.read_text(encoding="utf-8"), count=1, flags=re.M)
        (folder / f"{source.stem}-{index}.yaml").write_text(text, encoding="utf-8")
    return count


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds of `command` and its summary line."""
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    lines = (done.stdout + done.stderr).strip().splitlines()
    summary = [line for line in lines if re.search(r"\d+ (passed|failed)|scenarios ok", line)]
    return seconds, (summary or lines or [f"exit {done.returncode}"])[-1]


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (figures are per run)")
    parser.add_argument("--pytest", action="store_true", help="also pytest -n 0 against pytest -n 2")
    args = parser.parse_args()

    print(f"cpus: {os.cpu_count()}  load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"import castling.scenarios.runner: {import_seconds('castling.scenarios.runner'):.2f} s")
    print(f"import castling.agents.agent (langgraph, langchain-core): {import_seconds('castling.agents.agent'):.2f} s")
    with tempfile.TemporaryDirectory() as temp:
        suite = Path(temp) / "scenarios"
        print(f"generated {generate(suite, args.files)} files in {suite}")
        commands = {
            "replay serial": [*CASTLING, "replay", str(suite)],
            "replay -j 2": [*CASTLING, "replay", str(suite), "-j", "2"],
        }
        if args.pytest:
            pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)]
            commands |= {"pytest -n 0": [*pytest, "-n", "0"], "pytest -n 2": [*pytest, "-n", "2"]}
        walls: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                seconds, last = timed(command, Path(temp))
                walls[name].append(seconds)
                print(f"{name:14} {seconds:6.1f} s  load {os.getloadavg()[0]:.1f}  | {last[:90]}")
    best = {name: min(values) for name, values in walls.items()}
    print(f"replay: serial / -j 2 = {best['replay serial'] / best['replay -j 2']:.2f}x (best of {args.repeat})")
    if args.pytest:
        print(f"pytest: -n 0 / -n 2 = {best['pytest -n 0'] / best['pytest -n 2']:.2f}x (best of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
