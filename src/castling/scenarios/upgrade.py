"""`castling scenarios upgrade PATH...`: rewrite schema version 1 files as version 2, in place.

Each file is read and validated first; a file that does not load gets one line naming it and is left as it was,
and the others are still upgraded. Version 2 files are left alone (a hand edit in one is never re-laid out).
The comment lines at the top of a file (the `yaml-language-server` schema line) are kept; the rest is written by
the same code that saves a recording, through a temp file and a rename.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from castling.errors import ScenarioFileError
from castling.scenarios.store import discover, load, text_of, write_text_atomically


@dataclass
class Upgraded:
    """What happened to one file."""

    path: Path
    old_lines: int = 0
    new_lines: int = 0
    changed: bool = False
    error: str = ""

    def line(self, check: bool) -> str:
        if self.error:
            named = self.error if self.error.startswith(str(self.path)) else f"{self.path}: {self.error}"
            return f"{named} (not upgraded; the file is left as it was)"
        if not self.changed:
            return f"{self.path}: already version 2 ({self.old_lines} lines)"
        verb = "would go" if check else "upgraded"
        return f"{self.path}: {verb} from version 1 to 2, {self.old_lines} → {self.new_lines} lines"


def upgrade_file(path: Path, *, check: bool = False) -> Upgraded:
    """Upgrade one file (or, with `check`, only say whether it would change)."""
    try:
        old = path.read_text(encoding="utf-8")
        scenario = load(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ScenarioFileError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Upgraded(path, error=first)
    result = Upgraded(path, old_lines=_lines(old), new_lines=_lines(old))
    if scenario.schema_version == 2:
        return result
    new = leading_comments(old) + text_of(scenario)
    result.new_lines, result.changed = _lines(new), new != old
    if result.changed and not check:
        write_text_atomically(path, new)
    return result


def leading_comments(text: str) -> str:
    """The comment lines (and blank lines among them) before the first YAML content."""
    kept = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    return "".join(kept)


def _lines(text: str) -> int:
    return len(text.splitlines())


def upgrade_command(args: argparse.Namespace) -> int:
    """Upgrade every scenario file under `args.paths`; exit 1 on a file that failed or, with `--check`, would change."""
    missing = [p for p in args.paths if not Path(p).exists()]
    for name in missing:
        print(f"{name}: no such file or folder (not upgraded)", file=sys.stderr)
    results = [upgrade_file(path, check=args.check) for path in discover(args.paths)]
    for result in results:
        print(result.line(args.check), file=sys.stderr if result.error else sys.stdout)
    changed = sum(r.changed for r in results)
    failed = len(missing) + sum(bool(r.error) for r in results)
    before, after = sum(r.old_lines for r in results), sum(r.new_lines for r in results)
    verb = "would be upgraded" if args.check else "upgraded"
    print(f"{changed} of {len(results)} file(s) {verb} ({before} → {after} lines); {failed} not readable")
    return 1 if failed or (args.check and changed) else 0
