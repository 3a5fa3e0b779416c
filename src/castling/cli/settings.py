"""What a chat session is configured with; slash commands change it, the agent is rebuilt from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from castling.tools.builtins import BUILTIN_TOOLS

ApprovalMode = Literal["ask", "auto", "never"]
APPROVAL_MODES: tuple[ApprovalMode, ...] = ("ask", "auto", "never")
CODE_TOOLS = frozenset(name for name, builtin in BUILTIN_TOOLS.items() if builtin.runs_code)
"""Tools that run code: they ask before each call unless told otherwise."""
TOOL_ALIASES = {
    alias: name for name, builtin in BUILTIN_TOOLS.items() for alias in (name, builtin.scenario_name, *builtin.aliases)
}
"""Every name the chat accepts for a built-in tool → the tool's own name (`python`, `code` → `run_python`)."""


@dataclass
class ChatSettings:
    """The live configuration of one chat."""

    model: str = ""
    backbone: str | None = None
    """Backbone family (`qwen`, `llama`); None picks it from the model name."""
    strategy: str | None = None
    """`tools` or `plan`; None uses the backbone's default."""
    tools: list[str] = field(default_factory=list)
    """Tool names (as the model sees them) that are enabled."""
    think: bool | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Ollama options (`num_ctx`, `temperature`, ...)."""
    approval: dict[str, ApprovalMode] = field(default_factory=dict)
    """Per-tool approval mode; tools not listed use `default_approval`."""
    verbose: bool = False
    multiline: bool = False
    system: str | None = None
    ask_first: frozenset[str] = frozenset()
    """Tools that ask by default besides the code tools: every MCP server's tools (castling cannot see what
    they do: they may write files or run commands)."""

    def approval_for(self, tool: str) -> ApprovalMode:
        """The approval mode of `tool`: its own, else ask for code and MCP tools and run the rest freely."""
        return self.approval.get(tool, "ask" if tool in self.ask_first else default_approval(tool))


KEPT = ("backbone", "strategy", "think", "options", "system")
"""The settings a session keeps for `--resume` / `/resume`: those that shape the model's requests. Tools and
approval modes are not restored: a resumed chat never runs more freely than it was started."""


def kept(settings: ChatSettings) -> dict[str, Any]:
    """The settings a session keeps (JSON-ready)."""
    return {name: getattr(settings, name) for name in KEPT}


def restore(settings: ChatSettings, saved: dict[str, Any]) -> list[str]:
    """Apply a session's kept settings; the names of those that changed."""
    changed = []
    for name in KEPT:
        if name in saved and saved[name] != getattr(settings, name):
            setattr(settings, name, dict(saved[name]) if name == "options" else saved[name])
            changed.append(name)
    return changed


def default_approval(tool: str) -> ApprovalMode:
    """Code execution asks first; read-only tools such as fetch run freely."""
    return "ask" if tool in CODE_TOOLS else "auto"


def parse_approve(spec: str | None, settings: ChatSettings) -> None:
    """Apply `--approve`: `code`/`python` (ask before code), `all`, `none`, or `TOOL=MODE,...`."""
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            name, mode = (p.strip() for p in part.split("=", 1))
            settings.approval[TOOL_ALIASES.get(name, name)] = check_mode(mode)
        elif part in ("all", "none", "ask", "auto", "never"):
            mode = {"all": "ask", "none": "auto"}.get(part, part)
            for tool in settings.tools:
                settings.approval[tool] = check_mode(mode)
        else:
            settings.approval[TOOL_ALIASES.get(part, part)] = "ask"


def check_mode(mode: str) -> ApprovalMode:
    """`mode` if it is an approval mode, else a ValueError naming the valid ones."""
    for known in APPROVAL_MODES:
        if mode == known:
            return known
    raise ValueError(f"unknown approval mode {mode!r}: use one of {', '.join(APPROVAL_MODES)}")


def parse_value(raw: str) -> Any:
    """An option value as typed: numbers and booleans become numbers and booleans, the rest stays text."""
    lowered = raw.lower()
    if lowered in ("true", "on", "yes"):
        return True
    if lowered in ("false", "off", "no"):
        return False
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw
