"""The bodies of `castling record | replay | serve | compare`."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from castling.backbones.registry import family_or_fallback
from castling.backbones.servers import api_key_for
from castling.errors import CastlingError
from castling.scenarios.format import AgentConfig, Recording, Scenario
from castling.scenarios.library_tools import ToolUnavailable
from castling.scenarios.live import LiveSource, OllamaLive, live_for
from castling.scenarios.names import allow
from castling.scenarios.report import (
    Row,
    comparable,
    compare_text,
    left_out,
    row_for,
    rows_from_recordings,
    session_table,
)
from castling.scenarios.report_html import compare_html
from castling.scenarios.runner import record, run_live
from castling.scenarios.store import discover, load


def _model_and_family(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """`-m MODEL` and `--backbone FAMILY`, as in `castling chat`; the old `--backbone MODEL` / `--family` still work."""
    from castling.backbones.registry import BACKBONES

    model, family = args.model, args.backbone
    if args.family:
        print("castling record: note: --family is now --backbone (the family, as in castling chat)", file=sys.stderr)
        family = family or args.family
    if model is None and family is not None and family not in BACKBONES:
        print(
            f"castling record: note: --backbone {family} as the model is deprecated: use -m {family} "
            "(--backbone now names the family, as in castling chat)",
            file=sys.stderr,
        )
        model, family = family, args.family
    return model, family


def record_command(args: argparse.Namespace) -> int:
    """Record a task against a live Ollama or OpenAI-compatible server; an existing file keeps its expectations."""
    path = Path(args.output)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    try:  # module:attr tools on the user's own command line are the user's choice to import
        for name in tools:
            if ":" in name:
                allow(name, "tool")
    except CastlingError as exc:
        print(f"castling record: {exc}", file=sys.stderr)
        return 2
    model, family = _model_and_family(args)
    if not model:
        print("castling record: name the model with -m MODEL (e.g. -m qwen3:8b)", file=sys.stderr)
        return 2
    try:
        api_key = api_key_for(args.server, getattr(args, "api_key", None))
    except CastlingError as exc:
        print(f"castling record: {exc}", file=sys.stderr)
        return 2
    agent = AgentConfig(
        backbone=family or family_or_fallback(model),
        model=model,
        server=args.server,
        strategy=args.strategy or "tools",
        system=args.system,
        max_steps=args.max_steps,
        tools=tools,
    )
    expectations = load(path).expectations if path.exists() else []
    scenario = Scenario(
        id=path.stem,
        task=args.task,
        agent=agent,
        recording=Recording(source="live"),
        expectations=expectations,
    )
    try:
        report = record(scenario, path, live_for(scenario, args.host), api_key=api_key)
    except CastlingError as exc:
        print(f"castling record: {exc}", file=sys.stderr)
        return 1
    if report.status == "error" and report.outcome is not None and report.outcome.error:  # e.g. no server
        from castling.cli.wording import for_the_command_line

        error = for_the_command_line(report.outcome.error).rstrip(".")
        print(f"castling record: {error}; nothing saved", file=sys.stderr)
        return 1
    print(session_table([report]))
    if report.saved:
        print(f"\nsaved {path} — review its expectations (scaffolded ones describe what happened, not intent)")
        return 0
    print(f"\nnothing saved: {report.message()}", file=sys.stderr)
    return 1


def select(paths: Sequence[str], keyword: str | None) -> list[Path]:
    """Scenario files under `paths`, filtered by a `-k` substring (id, path or tag; `a,b` means either)."""
    found = discover(list(paths))
    if not keyword:
        return found
    words = [w.strip().lower() for w in keyword.split(",") if w.strip()]
    return [p for p in found if any(w in str(p).lower() for w in words)]


def replay_command(args: argparse.Namespace) -> int:
    """Run the selected scenarios in a mode and print the summary; exit 1 if any did not pass."""
    try:
        for path in args.tool:
            allow(path, "tool")
        for path in args.check:
            allow(path, "check")
    except CastlingError as exc:
        print(f"castling replay: {exc}", file=sys.stderr)
        return 2
    paths = select(args.paths, args.keyword)
    if getattr(args, "jobs", 1) > 1:
        from castling.scenarios.parallel import replay_many

        reports = replay_many(
            paths, args.mode, jobs=args.jobs, host=args.host, repeat=args.repeat, tools=args.tool, checks=args.check
        )
    else:
        from castling.scenarios.parallel import replay_one

        reports = [replay_one(path, args.mode, args.host, args.repeat) for path in paths]
    for report in reports:
        if not report.ok:
            print(f"\n✘ {report.path}\n{report.message()}\n", file=sys.stderr)
    print(session_table(reports))
    failed = sum(not r.ok for r in reports)
    print(f"\n{len(reports) - failed} of {len(reports)} scenarios ok (mode={args.mode})")
    return 1 if failed or not reports else 0


def serve_command(args: argparse.Namespace) -> int:
    """Serve one scenario until interrupted."""
    from castling.scenarios.serve import ReplayServer, describe

    try:
        server = ReplayServer(
            args.path,
            host=args.bind,
            port=args.port,
            loose=args.loose,
            delay=args.delay,
            allow_remote=args.allow_remote,
        )
    except CastlingError as exc:
        print(f"castling serve: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"castling serve: {bind_problem(args.bind, args.port, exc)}", file=sys.stderr)
        return 1
    print(describe(server), flush=True)
    try:
        server.serve_forever()
    finally:
        server.httpd.server_close()
    return 0


def bind_problem(host: str, port: int, exc: OSError) -> str:
    """Why the server could not listen, in one line with what to do."""
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (Ollama, or another castling serve?): pick another with --port"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"cannot listen on {host!r}: this machine has no such address ({exc.strerror or exc}); check --bind"
    return f"cannot listen on {host} port {port}: {exc.strerror or exc}"


def compare_command(args: argparse.Namespace) -> int:
    """The offline view: recorded scenarios per backbone and strategy, or saved `castling eval --json` results.

    `--live` (one run per task and model, no intervals) still works; `castling eval` is its full version.
    """
    results = [p for p in args.paths if p.endswith(".json")]
    if results:
        if len(results) < len(args.paths) or args.live:
            print(
                "castling compare: give either scenario files/folders or eval --json results, not both", file=sys.stderr
            )
            return 2
        from castling.scenarios.eval.command import show_results

        return show_results(results, args.html)
    scenarios = [load(p) for p in select(args.paths, None)]
    if args.live:
        print(
            "castling compare: note: for repeats, 95% intervals, several hosts and resume, use "
            "castling eval PATH --model M [--repeats N]",
            file=sys.stderr,
        )
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        if not models:
            print("castling compare --live needs --models, e.g. --models qwen3:8b,llama3.1:8b", file=sys.stderr)
            return 2
        rows = live_rows(
            scenarios, models, lambda: OllamaLive(args.host), args.repeat, strategy=getattr(args, "strategy", None)
        )
        mode = f"live run against {OllamaLive(args.host).host}"
    else:
        mode = "recorded outcomes"
        rows = rows_from_recordings(scenarios)
    print(compare_text(rows))
    if note := left_out(scenarios):
        print(f"\n{note}")
    if args.html:
        Path(args.html).write_text(compare_html(rows, mode=mode), encoding="utf-8")
        print(f"\nHTML report: {args.html}")
    failed = sum(bool(r.outcome.error) for r in rows)
    if failed:  # unsolved is a result; a run that could not happen (no server, no model) is not
        print(f"\n{failed} of {len(rows)} runs failed before an answer (see the errors above)", file=sys.stderr)
    return 1 if failed else 0


def live_rows(
    scenarios: Sequence[Scenario],
    models: Sequence[str],
    live: Callable[[], LiveSource],
    repeat: int = 1,
    *,
    strategy: str | None = None,
) -> list[Row]:
    """Each distinct task run against each model (the task, tools and expectations of its first scenario).

    `strategy` overrides the recorded one for every run (e.g. a Llama model under `plan`).
    """
    templates: dict[str, Scenario] = {}
    for scenario in scenarios:
        if comparable(scenario):
            templates.setdefault(scenario.group, scenario)
    rows = []
    for template in templates.values():
        for model in models:
            update = {
                "model": model,
                "backbone": family_or_fallback(model),
                "strategy": strategy or template.agent.strategy,
            }
            agent = template.agent.model_copy(update=update)
            variant = template.model_copy(update={"agent": agent, "recording": Recording(source="live")})
            try:
                report = run_live(variant, Path(template.id), live(), repeat)
            except ToolUnavailable:
                continue
            if report.outcome is not None:
                rows.append(row_for(variant, report.outcome))
    return rows
