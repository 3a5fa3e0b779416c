"""MCP servers for the chat: `--mcp "COMMAND"` (repeatable) and `--mcp-config FILE` in the `mcpServers` shape.

The file is the one Claude Desktop (`{"mcpServers": {NAME: {"command", "args", "env", "cwd"} | {"url",
"headers"}}}`) and VS Code (`{"servers": {...}}`) users already have. Servers open once per chat, not per
agent rebuild, so a slash command that changes the model keeps their sessions (and their state).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from castling.errors import ConfigError

if TYPE_CHECKING:
    from castling.tools.mcp import McpServer


def chat_servers(commands: Sequence[str], config: str | None) -> list[McpServer]:
    """The servers named on the command line and in the config file, in that order."""
    if not commands and config is None:
        return []
    from castling.tools.mcp import mcp

    servers = [mcp(shlex.split(command)) for command in commands]
    if config is not None:
        servers += [_server(name, entry, config) for name, entry in _entries(Path(config)).items()]
    return servers


def _entries(path: Path) -> dict[str, Mapping[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the MCP config {path}: {exc.strerror or exc}.") from exc
    except ValueError as exc:
        raise ConfigError(f"the MCP config {path} is not valid JSON: {exc}.") from exc
    servers = data.get("mcpServers", data.get("servers")) if isinstance(data, dict) else None
    if not isinstance(servers, dict) or not all(isinstance(entry, dict) for entry in servers.values()):
        raise ConfigError(
            f'the MCP config {path} needs {{"mcpServers": {{"NAME": {{"command": ..., "args": [...]}}}}}} '
            '(or VS Code\'s "servers"), each entry an object.'
        )
    return {name: entry for name, entry in servers.items() if not entry.get("disabled")}


def _server(name: str, entry: Mapping[str, Any], path: str) -> McpServer:
    from castling.tools.mcp import mcp

    where = f"server {name!r} in {path}"
    if "url" in entry:
        url, headers = _text(entry["url"], where, "url"), _strings(entry.get("headers"), where, "headers")
        return mcp(url=url, headers=headers, name=name)  # the config's name: stable in scenario recordings
    if "command" not in entry:
        raise ConfigError(f"{where} has neither a command nor a url.")
    args = entry.get("args") or []
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise ConfigError(f"{where}: args must be a list of strings.")
    cwd = entry.get("cwd")
    return mcp(
        [_text(entry["command"], where, "command"), *args],
        env=_strings(entry.get("env"), where, "env"),
        cwd=_text(cwd, where, "cwd") if cwd is not None else None,
        name=name,
    )


def _text(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key} must be a non-empty string.")
    return value


def _strings(value: Any, where: str, key: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where}: {key} must be an object of strings.")
    return {str(k): v for k, v in value.items()}
