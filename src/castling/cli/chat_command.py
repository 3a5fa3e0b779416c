"""The `castling chat` handler: argparse namespace → `ChatOptions`, then the event loop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from castling.cli.settings import parse_value


def run(args: argparse.Namespace) -> int:
    """Run the chat until the user leaves; the terminal is restored whatever happens."""
    from castling.backbones.servers import SERVERS, api_key_for
    from castling.cli.chat import ChatOptions, start_chat
    from castling.cli.render import Screen
    from castling.errors import ConfigError

    if args.server not in SERVERS:
        known = ", ".join(sorted(SERVERS))
        print(f"castling chat: unknown --server {args.server!r}: use one of {known}.", file=sys.stderr)
        return 2
    try:
        api_key_for(args.server, args.api_key)  # a key for a server that takes none is refused here
    except ConfigError as exc:
        print(f"castling chat: {exc}", file=sys.stderr)
        return 2
    options = {}
    for item in args.set:
        name, _, value = item.partition("=")
        options[name.strip()] = parse_value(value.strip())
    problem = _context_flags(args, options)
    if problem:
        print(f"castling chat: {problem}", file=sys.stderr)
        return 2
    chat_options = ChatOptions(
        model=args.model,
        host=args.host,
        server=args.server,
        api_key=args.api_key,
        tools=args.tools,
        approve=args.approve,
        strategy=args.strategy,
        backbone=args.backbone,
        think=None if args.think is None else args.think == "on",
        options=options,
        resume=args.resume,
        db=args.db,
        plain=args.plain,
        mcp=list(args.mcp),
        mcp_config=args.mcp_config,
    )
    screen = Screen(styled=False if args.plain else None)
    try:
        return asyncio.run(start_chat(chat_options, screen=screen, handle_signals=True))
    except BrokenPipeError:  # the reader left (`castling chat | head`): stop quietly, as `cat` does
        _discard_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left
    finally:
        with contextlib.suppress(BrokenPipeError):
            screen.restore()


def _context_flags(args: argparse.Namespace, options: dict[str, object]) -> str | None:
    """Apply `--num-ctx` (an explicit window, like `/set num_ctx`) and `--kv-memory`; the problem, if any."""
    from castling.backbones.memory import parse_size

    if args.num_ctx is not None:
        if args.num_ctx < 256:
            return f"--num-ctx {args.num_ctx} is too small: give the context window in tokens, e.g. --num-ctx 16384."
        options["num_ctx"] = args.num_ctx
    if args.kv_memory is not None:
        try:
            parse_size(args.kv_memory)
        except ValueError as exc:
            return f"--kv-memory: {exc}"
        os.environ["CASTLING_KV_MEMORY"] = args.kv_memory  # read by every backbone the chat builds
    return None


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again on the closed pipe."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
