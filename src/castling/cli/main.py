"""The `castling` command.

Only argparse is imported up front: each command imports what it needs when it runs, so `castling --help`
stays fast (no langgraph import).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from castling._version import __version__

Handler = Callable[[argparse.Namespace], int]


def _version(_: argparse.Namespace) -> int:
    print(f"castling {__version__}")
    return 0


def _backbones(_: argparse.Namespace) -> int:
    from castling.backbones.profiles import render_table

    print(render_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every `castling` subcommand."""
    parser = argparse.ArgumentParser(
        prog="castling", description="Agents on local models through Ollama, with Qwen and Llama backbones."
    )
    parser.add_argument("-V", "--version", action="version", version=f"castling {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("version", help="print the version").set_defaults(handler=_version)
    commands.add_parser("backbones", help="list the backbones and their profiles").set_defaults(handler=_backbones)
    from castling.scenarios.cli import add_commands as add_scenario_commands  # argparse only: stays light

    add_scenario_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `castling` command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
