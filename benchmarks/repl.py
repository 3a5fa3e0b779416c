"""Chat REPL figures: time from `castling chat` to the prompt, and the rendering cost per streamed chunk.

Start-up is measured in a real pseudo-terminal (so prompt_toolkit takes its terminal path) against the loopback
Ollama stub of the tests; rendering is measured off-screen with the Markdown renderer (throttled as in use, and
unthrottled: every chunk re-rendered) and the plain renderer.

    .venv/bin/python benchmarks/repl.py
"""

from __future__ import annotations

import io
import itertools
import os
import pty
import select
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cli.ollama_stub import OllamaStub  # noqa: E402

from castling.cli.markdown_stream import MarkdownStream  # noqa: E402
from castling.cli.render import Screen  # noqa: E402

CASTLING = Path(sys.executable).parent / "castling"
ANSWER = (
    "## Reading a CSV file\n\nUse the **csv** module from the standard library:\n\n"
    "```python\nimport csv\n\nwith open('data.csv', newline='') as f:\n    for row in csv.DictReader(f):\n"
    "        print(row['name'], row['age'])\n```\n\n"
    + "".join(
        f"{i}. Step {i}: check the `delimiter`, the quoting and the encoding of the file.\n" for i in range(1, 13)
    )
    + "\nThat is all you need for most files; for large ones, consider *pandas* or *polars*.\n"
)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def time_to_prompt(host: str, data: str, tools: str = "none") -> float:
    """Seconds from starting `castling chat --tools TOOLS` in a pty to its `>>>` prompt."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        env = {**os.environ, "OLLAMA_HOST": host, "CASTLING_DATA_DIR": data, "TERM": "xterm-256color"}
        os.execve(str(CASTLING), [str(CASTLING), "chat", "--tools", tools], env)
    seen = b""
    try:
        while b">>>" not in seen:
            ready, _, _ = select.select([fd], [], [], 10)
            if not ready:
                raise TimeoutError(seen.decode(errors="replace"))
            seen += os.read(fd, 4096)
        return time.perf_counter() - started
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def startup(runs: int = 7, tools: str = "none") -> list[float]:
    with OllamaStub(["qwen3:8b"]) as server, tempfile.TemporaryDirectory() as data:
        time_to_prompt(server.host, data, tools)  # warm the file cache once
        return [time_to_prompt(server.host, data, tools) for _ in range(runs)]


def chunks(size: int = 4) -> list[str]:
    return [ANSWER[i : i + size] for i in range(0, len(ANSWER), size)]


def render_cost(styled: bool, throttled: bool) -> float:
    """Mean microseconds per chunk to show the whole answer."""
    pieces = chunks()
    out = Tty() if styled else io.StringIO()
    screen = Screen(out, styled=styled, width=100)
    if not throttled:
        ticks = itertools.count()
        original = MarkdownStream.__init__

        def unthrottled(self: MarkdownStream, *args: object, **kwargs: object) -> None:
            original(self, *args, **kwargs)  # type: ignore[arg-type]
            self.clock = lambda: float(next(ticks))

        MarkdownStream.__init__ = unthrottled  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        for piece in pieces:
            screen.text(piece)
        screen.end_block()
        return (time.perf_counter() - started) / len(pieces) * 1e6
    finally:
        if not throttled:
            MarkdownStream.__init__ = original  # type: ignore[method-assign]


def main() -> None:
    for tools in ("none", "python,fetch"):
        times = startup(tools=tools)
        print(
            f"castling chat --tools {tools} → prompt (pty, loopback stub, {len(times)} runs): "
            f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s"
        )
    n = len(chunks())
    print(f"answer: {len(ANSWER)} chars in {n} chunks of 4 chars")
    for label, styled, throttled in [
        ("markdown, throttled (as used)", True, True),
        ("markdown, every chunk re-rendered", True, False),
        ("plain (pipe / NO_COLOR)", False, True),
    ]:
        costs = [render_cost(styled, throttled) for _ in range(5)]
        print(f"render {label}: {statistics.median(costs):.1f} µs per chunk (median of 5)")
    from castling.cli.markdown_stream import render_lines

    for copies in (1, 4, 16):
        text = ANSWER * copies
        started = time.perf_counter()
        for _ in range(10):
            render_lines(text, 100)
        print(f"one Markdown render of {len(text)} chars: {(time.perf_counter() - started) / 10 * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
