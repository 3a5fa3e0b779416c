"""The `castling` command.

Only argparse is imported up front: each command imports what it needs when it runs, so `castling --help`
stays fast (no langgraph import).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from castling._version import __version__
from castling.backbones.registry import BACKBONES  # names only: no httpx, pydantic or langchain-core
from castling.backbones.servers import API_KEY_HELP  # light too

Handler = Callable[[argparse.Namespace], int]


def _version(_: argparse.Namespace) -> int:
    print(f"castling {__version__}")
    return 0


def _chat(args: argparse.Namespace) -> int:
    from castling.cli.chat_command import run

    return run(args)


def _chat_epilog() -> str:
    """The slash commands and keys, from the chat's own table (argparse only: no langgraph import)."""
    from castling.cli.commands import help_text

    return "In the chat:\n" + help_text(width=100).removeprefix("Commands:\n")


def _add_chat(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chat = commands.add_parser(
        "chat",
        help="chat with a local model that can run code and read the web",
        description="Chat with a local model that can run code and read the web.",
        epilog=_chat_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chat.add_argument("-m", "--model", help="Ollama model (default: the best installed tool-capable Qwen, else Llama)")
    chat.add_argument(
        "--host", help="server URL (Ollama default: OLLAMA_HOST, then http://127.0.0.1:11434; openai: the /v1 base URL)"
    )
    chat.add_argument("--server", default="ollama", help="the API the host speaks: ollama (default) or openai")
    chat.add_argument("--api-key", metavar="KEY", help=API_KEY_HELP)
    chat.add_argument("--tools", help="comma-separated tools (python,fetch) or none; default: every installed one")
    chat.add_argument("--approve", help="ask before tools run: code (default), all, none, or TOOL=ask|auto|never,...")
    chat.add_argument("--strategy", choices=["tools", "plan"], help="agent strategy (default: the backbone's)")
    chat.add_argument("--backbone", choices=list(BACKBONES), help="backbone family (default: from the model name)")
    chat.add_argument("--think", choices=["on", "off"], help="thinking on or off (default: the model's)")
    chat.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE", help="an Ollama option")
    chat.add_argument(
        "--num-ctx", type=int, metavar="N", help="context window to ask for (default: the profile's, capped by memory)"
    )
    chat.add_argument(
        "--kv-memory", metavar="SIZE", help="memory the server's KV cache may use, e.g. 24GiB (default: half the RAM)"
    )
    chat.add_argument("--resume", nargs="?", const="", metavar="ID", help="continue the last session, or session ID")
    chat.add_argument(
        "--db",
        metavar="URL",
        help="where conversations are kept: postgresql://user@host:port/db, sqlite:///path (default: the data dir)",
    )
    chat.add_argument("--plain", action="store_true", help="no colours or Markdown rendering")
    chat.add_argument("--mcp", action="append", default=[], metavar="COMMAND", help="an MCP server to use (repeatable)")
    chat.add_argument("--mcp-config", metavar="FILE", help='MCP servers from a JSON file ({"mcpServers": {...}})')
    chat.set_defaults(handler=_chat)


def _mcp(args: argparse.Namespace) -> int:
    from castling.cli.mcp_command import run

    return run(args)


def _add_mcp(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("mcp", help="serve castling's sandboxed Python and safe fetch as an MCP server")
    serve.add_argument("--tools", help="comma-separated: python,fetch,http_request (default: every one that works)")
    serve.add_argument("--http", type=int, metavar="PORT", help="streamable HTTP on 127.0.0.1:PORT (default: stdio)")
    serve.set_defaults(handler=_mcp)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every `castling` subcommand."""
    parser = argparse.ArgumentParser(
        prog="castling", description="Agents on local models through Ollama, with Qwen and Llama backbones."
    )
    parser.add_argument("-V", "--version", action="version", version=f"castling {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("version", help="print the version").set_defaults(handler=_version)
    from castling.cli.backbones_command import add_parser as add_backbones  # stdlib only: stays light

    add_backbones(commands)
    from castling.scenarios.cli import add_commands as add_scenario_commands  # argparse only: stays light

    add_scenario_commands(commands)
    _add_chat(commands)
    _add_mcp(commands)
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
    except ModuleNotFoundError as exc:  # an optional extra is missing: one line saying what to install
        from castling.cli.extras import missing_extra

        line = missing_extra(exc)
        if line is None:
            raise
        print(f"castling {args.command}: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
