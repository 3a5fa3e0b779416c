"""`castling backbones`: the families and their profiles; with `--host`/`--server`, what each server offers.

For every model a server lists (Ollama: `/api/tags`, then `/api/show` per model; OpenAI-compatible: `/v1/models`)
it shows the backbone family castling would use (by model-name prefix, else the fallback), the context length
the server reports, and whether castling will use tools and thinking with it. An OpenAI-compatible server does
not say what a model can do, so there tools and thinking are *assumed* (as the backbones assume them), except
where the family has no thinking mode (Llama). A host that cannot be reached is one line saying what to do; the
others are still shown.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from castling.backbones.servers import API_KEY_HELP  # light: no httpx

ASSUMED_NOTE = (
    "assumed: an OpenAI-compatible server does not say what a model can do; a server started without a tool "
    "parser refuses the first call with tools (the error names the flag to add)."
)
DISCOVERY_TIMEOUT = 10.0
"""Seconds to wait for each discovery request: listing models needs no model loaded."""


@dataclass
class ModelRow:
    """One model a server offers, as castling would use it."""

    model: str
    backbone: str
    fallback: bool
    """True when no family claims the model name and the fallback backbone would be used."""
    context_length: int | None
    tools: bool
    thinking: bool
    assumed: bool
    """True when the server does not say (OpenAI-compatible): tools and thinking are castling's assumption."""
    capabilities: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class HostReport:
    """What one server answered, or why it could not."""

    host: str
    server: str
    models: list[ModelRow] = field(default_factory=list)
    error: str | None = None


def run(args: argparse.Namespace) -> int:
    """Print the profile table, or, with `--host`/`--server`, what each server offers."""
    from castling.backbones.servers import SERVERS, api_key_for
    from castling.errors import ConfigError

    api = args.server or "ollama"
    if api not in SERVERS:
        print(f"castling backbones: unknown --server {api!r}: use {' or '.join(sorted(SERVERS))}.", file=sys.stderr)
        return 2
    try:
        api_key = api_key_for(api, args.api_key)
    except ConfigError as exc:
        print(f"castling backbones: {exc}", file=sys.stderr)
        return 2
    if not args.host and args.server is None:
        return _profiles(as_json=args.json)
    reports = [survey(api, host, api_key) for host in args.host or [None]]
    if args.json:  # JSON escapes control characters itself
        print(json.dumps({"hosts": [asdict(r) for r in reports]}, indent=2))
    else:
        from castling.cli.safe_text import visible

        print(visible(render(reports)))  # model names and errors come from the servers: no terminal escapes
    return 0 if any(report.error is None for report in reports) else 1


def _profiles(*, as_json: bool) -> int:
    from castling.backbones.profiles import PROFILES, render_table

    if as_json:
        print(json.dumps({"backbones": [p.model_dump(mode="json") for p in PROFILES.values()]}, indent=2))
    else:
        print(render_table())
    return 0


def survey(api: str, host: str | None, api_key: str | None) -> HostReport:
    """Ask the server at `host` for its models and what castling knows of each."""
    from castling.backbones.servers import make_server
    from castling.cli.wording import for_the_command_line
    from castling.errors import CastlingError

    server = make_server(api, host, api_key=api_key, timeout=DISCOVERY_TIMEOUT)
    try:
        names = server.list_models()
        return HostReport(server.host, api, [_row(server, api, name) for name in names])
    except CastlingError as exc:  # unreachable, not the API named, refused the key: its message says what to do
        return HostReport(server.host, api, error=for_the_command_line(str(exc)))
    finally:
        server.close()


def _row(server: Any, api: str, name: str) -> ModelRow:
    from castling.backbones.profiles import PROFILES
    from castling.backbones.registry import FALLBACK_FAMILY, family_for_model
    from castling.errors import ConfigError, ServerError

    try:
        family, fallback = family_for_model(name), False
    except ConfigError:  # no family claims the name: the chat and the scenarios use the fallback
        family, fallback = FALLBACK_FAMILY, True
    family_thinks = PROFILES[family].thinks if family in PROFILES else True
    assumed = api != "ollama"
    try:
        info = server.show(name)
    except ServerError as exc:
        return ModelRow(name, family, fallback, None, False, False, assumed, error=str(exc))
    return ModelRow(
        model=name,
        backbone=family,
        fallback=fallback,
        context_length=info.context_length,
        tools=info.supports_tools,
        thinking=info.supports_thinking and family_thinks,
        assumed=assumed,
        capabilities=sorted(info.capabilities),
    )


def render(reports: list[HostReport]) -> str:
    """The reports as text: a header line per host, then one aligned line per model."""
    blocks = []
    for report in reports:
        if report.error is not None:
            blocks.append(f"{report.host} ({report.server}): {report.error}")
            continue
        count = len(report.models)
        head = f"{report.host} ({report.server}): {count} model{'s' if count != 1 else ''}"
        if not report.models:
            blocks.append(f"{head}; pull or load one (Ollama: `ollama pull qwen3:8b`).")
            continue
        rows = [("model", "backbone", "context", "tools", "thinking")] + [_cells(row) for row in report.models]
        widths = [max(len(cells[i]) for cells in rows) for i in range(len(rows[0]))]
        lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() for cells in rows]
        notes = [f"  {row.model}: {row.error}" for row in report.models if row.error]
        if any(row.assumed for row in report.models):
            notes.append(f"  {ASSUMED_NOTE}")
        blocks.append("\n".join([head, *lines, *notes]))
    return "\n".join(blocks)


def _cells(row: ModelRow) -> tuple[str, str, str, str, str]:
    backbone = f"{row.backbone} (fallback)" if row.fallback else row.backbone
    context = f"{row.context_length:,}" if row.context_length else "?"
    if row.error:
        return row.model, backbone, context, "?", "?"
    return row.model, backbone, context, _flag(row.tools, row.assumed), _flag(row.thinking, row.assumed)


def _flag(value: bool, assumed: bool) -> str:
    if not value:
        return "no"
    return "assumed" if assumed else "yes"


def add_parser(commands: Any) -> None:
    """`castling backbones [--host URL ...] [--server ollama|openai] [--api-key KEY] [--json]`."""
    parser = commands.add_parser(
        "backbones",
        help="list the backbones and their profiles, or what models a server offers (--host)",
        description="List the backbone families and their profiles. With --host (repeatable) or --server, ask each "
        "server which models it offers and show, per model, the backbone castling would use, its context length "
        "and whether tools and thinking are supported.",
    )
    parser.add_argument("--host", action="append", default=[], metavar="URL", help="a server to ask (repeatable)")
    parser.add_argument("--server", help="the API the hosts speak: ollama (default) or openai")
    parser.add_argument("--api-key", metavar="KEY", help=API_KEY_HELP)
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.set_defaults(handler=run)
