"""`castling replay -j N`: scenario files replayed in N worker processes.

Processes, not threads: the offline guard is process-wide, so a refusal in one thread's replay would fail every
replay running beside it; in its own process each file has its own guard (and its own GIL). Workers are
forked from a single-threaded parent, else spawned, and re-allow the `--tool`/`--check` the user named.

Before forking, the parent imports the agent stack (langgraph, langchain-core, the backbones, the built-in tools:
~1.5 s of CPU) and freezes its objects out of the garbage collector: each worker then starts with it already
imported, instead of importing it again (N workers paid N imports, which on 2 busy cores ate the gain on a small
suite), and its collections do not touch, hence copy, the inherited pages.
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from castling.errors import CastlingError
from castling.scenarios.format import Mode
from castling.scenarios.runner import RunReport, run_file


def replay_many(
    paths: Sequence[Path],
    mode: Mode,
    *,
    jobs: int,
    host: str | None = None,
    repeat: int = 1,
    tools: Sequence[str] = (),
    checks: Sequence[str] = (),
) -> list[RunReport]:
    """One report per file, in the order of `paths`."""
    # fork inherits the imports (spawn re-imports castling and langgraph per worker), but forking a threaded
    # process can deadlock a child on a lock some thread held: fork only from a single-threaded parent.
    fork = threading.active_count() == 1
    context = multiprocessing.get_context("fork" if fork else "spawn")
    if fork:
        warm_imports()
        gc.freeze()  # the workers' collections leave the inherited objects (and their pages) alone
    with ProcessPoolExecutor(
        max_workers=max(1, jobs), mp_context=context, initializer=_allow, initargs=(list(tools), list(checks))
    ) as pool:
        futures = [pool.submit(_replay_light, path, mode, host, repeat) for path in paths]
        return [future.result() for future in futures]


WORKER_IMPORTS = (
    "castling.agents.agent",
    "castling.backbones.qwen",
    "castling.backbones.llama",
    "castling.tools.builtins",
    "castling.scenarios.expectations",
)
"""What every replay imports on its first file; imported once in the parent, so forked workers inherit it."""


def warm_imports() -> None:
    """Import what a replay needs (once, in the parent); a module that cannot import is left to the worker."""
    for name in WORKER_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def _allow(tools: list[str], checks: list[str]) -> None:
    from castling.scenarios.names import allow

    for name in tools:
        allow(name, "tool")
    for name in checks:
        allow(name, "check")


def _replay_light(path: Path, mode: Mode, host: str | None, repeat: int) -> RunReport:
    """`replay_one` in a worker, its report without the recorded traffic (less to pickle back).

    The table and the messages do not need the traffic.
    """
    report = replay_one(path, mode, host, repeat)
    if report.scenario is not None:
        light: dict[str, list[object]] = {"model_turns": [], "tool_http": [], "server": [], "code_exec": []}
        report.scenario = report.scenario.model_copy(update=light)
    return report


def replay_one(path: Path, mode: Mode, host: str | None = None, repeat: int = 1) -> RunReport:
    """Run one file; any failure becomes an `error` report (a bug in one file must not stop the others)."""
    from castling.scenarios.live import live_for
    from castling.scenarios.store import load

    try:
        live = live_for(load(path), host) if host else None  # the API the file speaks, at --host
        return run_file(path, mode, live=live, repeat=repeat)
    except CastlingError as exc:
        return RunReport(path, mode, "error", note=str(exc))
    except Exception as exc:
        return RunReport(path, mode, "error", note=f"{type(exc).__name__}: {exc}")
