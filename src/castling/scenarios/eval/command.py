"""The body of `castling eval`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from castling.backbones.servers import KEYED_API, api_key_for
from castling.errors import CastlingError
from castling.scenarios.commands import select
from castling.scenarios.eval.figures import by_folder, overall, results
from castling.scenarios.eval.html import eval_html
from castling.scenarios.eval.journal import Journal, RunRecord
from castling.scenarios.eval.plan import RunSpec, plan_runs
from castling.scenarios.eval.run import run_all
from castling.scenarios.eval.text import Progress, final_table
from castling.scenarios.names import allow
from castling.scenarios.store import load

JOURNAL = "eval-journal.jsonl"


def _host_down(host: str | None) -> None:
    print(f"host {host or 'default'} cannot be reached: its runs go to the other hosts", file=sys.stderr)


def journal_path(args: argparse.Namespace) -> Path | None:
    """Where finished runs are journaled: in `--record DIR`, else beside `--json OUT`; None: no resume."""
    if args.record:
        return Path(args.record) / JOURNAL
    if args.json:
        return Path(args.json + ".journal.jsonl")
    return None


def keyed_api(specs: Sequence[RunSpec]) -> str | None:
    """`openai` when any run speaks it (its file says `server: openai`, or `--server openai`), else None.

    The key is then read for the eval; only runs on the OpenAI wire send it (`execute.build_backbone`), so an
    eval mixing Ollama and OpenAI-wire files never hands the key to an Ollama host.
    """
    return KEYED_API if any(spec.scenario.agent.server == KEYED_API for spec in specs) else None


def eval_command(args: argparse.Namespace) -> int:
    """Plan, run what the journal does not have yet, print the table, write JSON/HTML; 1 if any run errored."""
    try:
        for path in args.tool:
            allow(path, "tool")
        for path in args.check:
            allow(path, "check")
        loaded = [(load(p), p) for p in select(args.paths, args.keyword)]
    except CastlingError as exc:
        print(f"castling eval: {exc}", file=sys.stderr)
        return 2
    server = getattr(args, "server", None)
    scenarios, folders = [s for s, _ in loaded], {s.id: p.parent for s, p in loaded}
    specs = plan_runs(scenarios, args.model, args.backbone, args.strategy, args.repeats, folders, server)
    if not specs:
        print("castling eval: no agent scenarios found under " + " ".join(args.paths), file=sys.stderr)
        return 2
    try:
        api_key = api_key_for(keyed_api(specs), getattr(args, "api_key", None))
    except CastlingError as exc:
        print(f"castling eval: {exc}", file=sys.stderr)
        return 2
    where = journal_path(args)
    journal = Journal(where) if where is not None else None
    if journal is not None and args.fresh and where is not None:
        where.unlink(missing_ok=True)
    done = journal.read() if journal is not None else {}
    todo = [s for s in specs if s.key not in done]
    if len(todo) < len(specs):
        print(f"resuming: {len(specs) - len(todo)} of {len(specs)} runs already done ({where})", file=sys.stderr)
    record_dir = Path(args.record) if args.record else None
    hosts: list[str | None] = list(args.host) or [None]
    progress = Progress(len(specs), len(specs) - len(todo))
    try:
        fresh = run_all(
            todo,
            hosts=hosts,
            jobs=args.jobs,
            journal=journal,
            record_dir=record_dir,
            on_done=progress,
            api_key=api_key,
            on_down=_host_down if len(hosts) > 1 else None,
        )
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are kept; run the same command again to resume", file=sys.stderr)
        return 130
    by_key = {**done, **{r.key: r for r in fresh}}
    records = [by_key[s.key] for s in specs if s.key in by_key]
    return _report(args, records)


def _report(args: argparse.Namespace, records: list[RunRecord]) -> int:
    rows, totals = results(records), overall(records)
    print(final_table(rows, totals))
    folders = by_folder(records) if getattr(args, "by_folder", False) else []
    if folders:
        print("\nper folder (the eval suite: per language)\n" + final_table(folders, []))
    meta = f"{len(records)} runs · repeats {args.repeats} · hosts: {', '.join(args.host) or 'default'}"
    if args.json:
        document = {"results": rows, "overall": totals, "runs": [vars(r) for r in records]}
        if folders:
            document["by_folder"] = folders
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nJSON: {args.json}")
    if args.html:
        Path(args.html).write_text(eval_html(rows, totals, meta=meta), encoding="utf-8")
        print(f"HTML report: {args.html}")
    errored = sum(bool(r.error_kind) for r in records)
    if errored:  # a wrong answer is a result; a run that could not happen (server down, HTTP 500) is flagged
        print(f"\n{errored} of {len(records)} runs failed before an answer (errors column)", file=sys.stderr)
    return 1 if errored else 0


def show_results(paths: list[str], html: str | None) -> int:
    """`castling compare OUT.json …`: the table (and `--html`) of saved `castling eval --json` results, offline."""
    rows: list[dict[str, Any]] = []
    totals: list[dict[str, Any]] = []
    for path in paths:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
            rows += list(document["results"])
            totals += list(document["overall"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(
                f"castling compare: {path} is not a castling eval --json file ({type(exc).__name__}: {exc}); "
                "write one with castling eval … --json OUT",
                file=sys.stderr,
            )
            return 2
    print(final_table(rows, totals))
    if html:
        Path(html).write_text(eval_html(rows, totals, meta="results of " + ", ".join(paths)), encoding="utf-8")
        print(f"\nHTML report: {html}")
    return 0
