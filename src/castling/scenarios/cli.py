"""`castling record | replay | serve | compare | eval | scenarios`: argparse wiring; the work imported when run."""

from __future__ import annotations

import argparse
from typing import Any

from castling.backbones.servers import API_KEY_HELP  # light: no httpx

_MODES = ("replay", "record", "record-missing", "update", "live")


def add_commands(commands: Any) -> None:
    """Add the scenario subcommands to the `castling` parser's subparsers."""
    _add_record(commands)
    _add_replay(commands)
    _add_serve(commands)
    _add_compare(commands)
    _add_eval(commands)
    _add_scenarios(commands)


def _add_record(commands: Any) -> None:
    record = commands.add_parser("record", help="run a task against a live Ollama and save it as a scenario")
    record.add_argument("task", help="the task to give the agent")
    record.add_argument("-m", "--model", default=None, help="model name, e.g. qwen3:8b or llama3.1:8b (required)")
    record.add_argument(
        "--backbone", default=None, metavar="FAMILY", help="backbone family: qwen, llama, ... (default: from the model)"
    )
    record.add_argument("--family", default=None, help=argparse.SUPPRESS)  # the old spelling of --backbone
    record.add_argument("--tools", default="", help="comma-separated tool names: python, fetch, weather, ...")
    record.add_argument("--system", default=None, help="system prompt")
    record.add_argument("--strategy", choices=("tools", "plan"), default=None)
    record.add_argument("--max-steps", type=int, default=12)
    record.add_argument(
        "--server", choices=("ollama", "openai"), default="ollama", help="the API the host speaks (default: ollama)"
    )
    record.add_argument(
        "--host",
        default=None,
        help="the server: Ollama (default: OLLAMA_HOST or 127.0.0.1:11434), or an OpenAI-compatible URL "
        "with its prefix, e.g. http://127.0.0.1:8000/v1",
    )
    record.add_argument("--api-key", default=None, metavar="KEY", help=API_KEY_HELP)
    record.add_argument("-o", "--output", required=True, help="the scenario file to write")
    record.set_defaults(handler=_record)


def _add_replay(commands: Any) -> None:
    replay = commands.add_parser("replay", help="replay scenario files (no Ollama needed) and print a summary")
    replay.add_argument("paths", nargs="+", help="scenario files or folders")
    replay.add_argument("-k", dest="keyword", default=None, help="only scenarios whose id, path or tags contain this")
    replay.add_argument("--mode", choices=_MODES, default="replay")
    replay.add_argument("--repeat", type=int, default=1, help="live mode: trials per scenario (pass^k)")
    replay.add_argument("-j", "--jobs", type=int, default=1, help="files replayed at once, in worker processes")
    replay.add_argument(
        "--host", default=None, help="the server for record/update/live (Ollama, or an OpenAI-compatible URL …/v1)"
    )
    replay.add_argument(
        "--tool", action="append", default=[], metavar="MODULE:ATTR", help="a tool of yours that the files may name"
    )
    replay.add_argument(
        "--check", action="append", default=[], metavar="MODULE:ATTR", help="a custom check the files may name"
    )
    replay.set_defaults(handler=_replay)


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser("serve", help="an Ollama-compatible server on loopback replaying a scenario")
    serve.add_argument("path", help="the scenario file")
    serve.add_argument(
        "--port", type=int, default=11434, help="port to listen on (default: 11434, Ollama's; 0 picks a free one)"
    )
    serve.add_argument("--bind", default="127.0.0.1", help="loopback address to listen on")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --bind address other machines can reach (they could read the recorded conversation)",
    )
    serve.add_argument("--loose", action="store_true", help="serve the replies in order without matching requests")
    serve.add_argument("--delay", type=float, default=0.0, help="seconds between streamed chunks")
    serve.set_defaults(handler=_serve)


def _add_compare(commands: Any) -> None:
    compare = commands.add_parser(
        "compare",
        help="offline view: recorded scenarios side by side per backbone, or saved `castling eval --json` results",
        description="The offline view of castling's comparisons. Scenario files/folders: their recorded outcomes "
        "per task and backbone/strategy (no model needed). Files ending in .json: the results of `castling eval "
        "--json`, shown with eval's table and HTML report (several files are shown together). "
        "`castling eval` is the live side: repeats, 95% intervals, hosts, resume.",
    )
    compare.add_argument("paths", nargs="+", help="scenario files or folders, or eval --json result files")
    compare.add_argument("--html", default=None, help="also write a self-contained HTML report here")
    compare.add_argument(
        "--live", action="store_true", help="run each task once against live models (castling eval does more)"
    )
    compare.add_argument("--models", default="", help="live: comma-separated models, e.g. qwen3:8b,llama3.1:8b")
    compare.add_argument(
        "--strategy", choices=("tools", "plan"), default=None, help="live: run every task under this strategy"
    )
    compare.add_argument("--repeat", type=int, default=1)
    compare.add_argument("--host", default=None)
    compare.set_defaults(handler=_compare)


def _add_eval(commands: Any) -> None:
    run = commands.add_parser(
        "eval",
        help="run scenario tasks live per model × backbone × strategy, repeated, with 95%% intervals",
        description="Live runs of each task (one per task_id) for every model × backbone × strategy, --repeats "
        "times, spread over --host. The multilingual suite: castling eval scenarios/eval --model M. "
        "See saved results again, offline: castling compare OUT.json [--html page.html].",
    )
    run.add_argument("paths", nargs="+", help="scenario files or folders (one run template per task_id)")
    run.add_argument("--model", action="append", required=True, help="a model to evaluate (repeat the option)")
    run.add_argument("--backbone", action="append", default=[], help="backbone family (default: from the model)")
    run.add_argument(
        "--strategy", action="append", default=[], choices=("tools", "plan"), help="default: each task's own"
    )
    run.add_argument("--repeats", type=int, default=1, help="runs per task and configuration")
    run.add_argument("-j", "--jobs", type=int, default=1, help="runs at once")
    run.add_argument(
        "--host",
        action="append",
        default=[],
        help="a server URL (repeat: runs spread over them; a run whose host refuses connections goes to another)",
    )
    run.add_argument(
        "--server",
        choices=("ollama", "openai"),
        default=None,
        help="the API the hosts speak (default: each file's own); openai: give URLs with their prefix, e.g. …:8000/v1",
    )
    run.add_argument("--api-key", default=None, metavar="KEY", help=API_KEY_HELP)
    run.add_argument("-k", dest="keyword", default=None, help="only scenarios whose path contains this")
    run.add_argument("--json", default=None, metavar="OUT", help="write the figures as JSON (journal beside it)")
    run.add_argument("--html", default=None, metavar="OUT", help="write a self-contained HTML report")
    run.add_argument("--record", default=None, metavar="DIR", help="save every run as a scenario file (and journal)")
    run.add_argument("--fresh", action="store_true", help="ignore the journal of an earlier run: start over")
    run.add_argument(
        "--by-folder",
        action="store_true",
        help="also figures per folder of the task files (scenarios/eval: per language)",
    )
    run.add_argument("--tool", action="append", default=[], metavar="MODULE:ATTR", help="a tool the files may name")
    run.add_argument("--check", action="append", default=[], metavar="MODULE:ATTR", help="a custom check")
    run.set_defaults(handler=_eval)


def _add_scenarios(commands: Any) -> None:
    group = commands.add_parser("scenarios", help="work on scenario files: `castling scenarios upgrade PATH...`")
    actions = group.add_subparsers(dest="scenarios_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade", help="rewrite schema version 1 scenario files as version 2, in place (folders: recursively)"
    )
    upgrade.add_argument("paths", nargs="+", help="scenario files or folders")
    upgrade.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if any file would be upgraded (for CI)"
    )
    upgrade.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from castling.scenarios.upgrade import upgrade_command

    return upgrade_command(args)


def _eval(args: argparse.Namespace) -> int:
    from castling.scenarios.eval.command import eval_command

    return eval_command(args)


def _record(args: argparse.Namespace) -> int:
    from castling.scenarios.commands import record_command

    return record_command(args)


def _replay(args: argparse.Namespace) -> int:
    from castling.scenarios.commands import replay_command

    return replay_command(args)


def _serve(args: argparse.Namespace) -> int:
    from castling.scenarios.commands import serve_command

    return serve_command(args)


def _compare(args: argparse.Namespace) -> int:
    from castling.scenarios.commands import compare_command

    return compare_command(args)
