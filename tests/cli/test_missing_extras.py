"""A command whose optional extra is not installed says in one line what to install, in a real process."""

import subprocess
import sys

import pytest

RUN_WITHOUT = (
    "import sys\n"
    "for name in sys.argv[1].split(','):\n"
    "    sys.modules[name] = None  # import of it now fails as if it were not installed\n"
    "from castling.cli.main import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def castling_without(modules: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", RUN_WITHOUT, modules, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("modules", "args", "extra"),
    [
        ("prompt_toolkit,rich", ["chat", "--host", "http://127.0.0.1:9"], "repl"),
        ("mcp", ["mcp"], "mcp"),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_install(modules: str, args: list[str], extra: str):
    done = castling_without(modules, *args)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1
    assert f"pip install 'castling[{extra}]'" in done.stderr
