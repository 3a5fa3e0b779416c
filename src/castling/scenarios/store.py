"""Reading and writing scenario files: errors point at the file and line; saving never leaves a half file."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from castling.errors import ScenarioFileError
from castling.scenarios import compact, layout
from castling.scenarios.format import Scenario

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCHEMA_COMMENT = "# yaml-language-server: $schema={schema}\n"


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file; a bad file raises `ScenarioFileError` naming the file and line."""
    path = Path(path)
    if not path.exists():
        raise ScenarioFileError(f"{path}: the scenario file does not exist (record it with --scenario-mode=record).")
    text = path.read_text(encoding="utf-8")
    try:
        data = _parse(text, path)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise ScenarioFileError(f"{path}:{line}: invalid YAML: {exc.problem}", path=str(path), line=line) from exc
    if not isinstance(data, dict):
        raise ScenarioFileError(f"{path}:1: a scenario file holds a mapping, got {type(data).__name__}", path=str(path))
    v2 = data.get("schema_version") == 2
    try:
        scenario = Scenario.model_validate(compact.from_file(data, str(path)) if v2 else data)
    except ValidationError as exc:
        first = exc.errors()[0]
        line = _line_of(text, first["loc"])
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ScenarioFileError(
            f"{path}:{line}: invalid scenario at {where}: {first['msg']}{more}", path=str(path), line=line
        ) from exc
    return compact.fill_derived(scenario) if v2 else scenario


MAX_EXPANSION = 1_000_000
"""Nodes a file may expand to through YAML aliases: a 4 KB alias bomb would otherwise exhaust memory."""


def _parse(text: str, path: Path) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and "&" in text:  # aliases need anchors; most files have none
            expanded = _expanded_size(node, {})
            if expanded > MAX_EXPANSION:
                raise ScenarioFileError(
                    f"{path}:1: YAML aliases expand this file to over {MAX_EXPANSION:,} nodes "
                    "(an alias bomb?): write the values out instead of repeating anchors.",
                    path=str(path),
                    line=1,
                )
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes `node` stands for once every alias is copied out (memoised: shared nodes are counted per use)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = min(size, MAX_EXPANSION + 1)
    return sizes[id(node)]


def _line_of(text: str, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the YAML node at `loc` (the deepest node that exists)."""
    node: Any = yaml.compose(text, Loader=_Loader)
    line = 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, _ in node.value if k.value == part), None)
            if child is None:
                break
            line, node = (key or child).start_mark.line + 1, child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def save(scenario: Scenario, path: str | Path, *, schema_ref: str | None = None) -> None:
    """Write atomically (temp file, then rename): a crash while saving leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = SCHEMA_COMMENT.format(schema=schema_ref) if schema_ref else ""
    write_text_atomically(path, header + text_of(scenario))


def text_of(scenario: Scenario) -> str:
    """The YAML of `scenario` as a schema version 2 file (without the schema comment)."""
    return layout.dump(compact.to_file(scenario))


def write_text_atomically(path: Path, text: str) -> None:
    """Write through a temp file in the same folder, then rename: a crash leaves the old file whole."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def store_blob(directory: Path, data: bytes, suffix: str) -> str:
    """Save bytes as `blobs/sha256-<hex><suffix>` beside the scenario; return the relative path."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"blobs/sha256-{digest[:32]}{suffix}"
    target = directory / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return relative


def read_blob(directory: Path, relative: str) -> bytes:
    """The bytes of a blob saved by `store_blob`; never a file outside the scenario's `blobs/` folder."""
    blobs = (directory / "blobs").resolve()
    target = (directory / relative).resolve()
    if not target.is_relative_to(blobs):
        raise ScenarioFileError(
            f"{directory}: body_file {relative!r} points outside the scenario's blobs/ folder; "
            "a scenario serves only its own recorded blobs."
        )
    return target.read_bytes()


def discover(paths: list[str | Path]) -> list[Path]:
    """Scenario files under the given files and folders (`*.yaml`, blobs and hidden files skipped)."""
    found: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_file():
            found.append(entry)
        elif entry.is_dir():
            found.extend(
                p for p in sorted(entry.rglob("*.yaml")) if "blobs" not in p.parts and not p.name.startswith(".")
            )
    return found
