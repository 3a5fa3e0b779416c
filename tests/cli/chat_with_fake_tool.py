"""`castling chat` with a stand-in `run_python` tool (the real one arrives with the tools package): for tmux tests."""

import asyncio
import sys

from castling import tool
from castling.cli.chat import ChatOptions, start_chat


@tool
def run_python(code: str) -> str:
    """Run Python code (stand-in: reports the code instead of running it)."""
    return f"would run {len(code.splitlines())} lines"


if __name__ == "__main__":
    options = ChatOptions(host=sys.argv[1], tools="run_python")
    sys.exit(asyncio.run(start_chat(options, extra_tools={"run_python": lambda: run_python}, handle_signals=True)))
