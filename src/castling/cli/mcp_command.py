"""`castling mcp`: parse the options, then hand over to `castling.tools.mcp.server`."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    """Serve until the client goes away; a configuration problem is one line on stderr and status 2."""
    try:
        from castling.tools.mcp.server import serve
    except ImportError as exc:
        print(f"castling mcp: {exc}", file=sys.stderr)
        return 2
    from castling.errors import CastlingError

    names = [name.strip() for name in args.tools.split(",") if name.strip()] if args.tools else None
    if args.http is not None and not 0 < args.http < 65536:
        print(f"castling mcp: --http needs a port between 1 and 65535, got {args.http}", file=sys.stderr)
        return 2
    try:
        serve(names, http_port=args.http)
    except CastlingError as exc:
        print(f"castling mcp: {exc}", file=sys.stderr)
        return 2
    return 0
