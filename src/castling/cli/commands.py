"""Slash commands: one table of name → (handler, arguments, help); `/help` and completion come from it."""

from __future__ import annotations

import base64
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from castling.backbones.registry import BACKBONES
from castling.cli.sessions import new_session_id
from castling.cli.settings import APPROVAL_MODES, TOOL_ALIASES, check_mode, parse_value
from castling.errors import CastlingError

if TYPE_CHECKING:
    from castling.cli.app import ChatApp

Handler = Callable[["ChatApp", str], Awaitable[None]]
OLLAMA_OPTIONS = ("num_ctx", "temperature", "top_k", "top_p", "min_p", "seed", "num_predict", "repeat_penalty")


@dataclass(frozen=True)
class Command:
    """One slash command."""

    handler: Handler
    usage: str
    help: str
    choices: tuple[str, ...] = ()


COMMANDS: dict[str, Command] = {}


def command(name: str, usage: str, help: str, choices: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Register a handler in the table."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(handler, usage, help, choices)
        return handler

    return register


async def run_command(app: ChatApp, line: str) -> None:
    """Run `/name args`; unknown names get a one-line hint."""
    name, _, arg = line[1:].strip().partition(" ")
    entry = COMMANDS.get(name)
    if entry is None:
        app.screen.error(f"unknown command /{name}: /help lists the commands")
        return
    await entry.handler(app, arg.strip())


KEYS = (
    'Keys: Ctrl-C clears the line / stops the reply · Ctrl-D exits · """ starts a multiline block · '
    "Ctrl-X Ctrl-E opens $EDITOR · at the approval question one key answers: Enter/y run once, a always, "
    "e edit, n reject"
)


def help_text(width: int = 100) -> str:
    """The `/help` text, from the table, wrapped to `width` columns (descriptions under their own column)."""
    column = min(max(len(f"/{name} {c.usage}".rstrip()) for name, c in COMMANDS.items()), width // 3)
    indent = " " * (column + 4)
    rows = []
    for name, c in COMMANDS.items():
        usage = f"/{name} {c.usage}".rstrip()
        head = f"  {usage:<{column}}  " if len(usage) <= column else f"  {usage}\n{indent}"
        rows.append(_fill(c.help, width, head, indent))
    return "Commands:\n" + "\n".join(rows) + "\n\n" + _fill(KEYS, width, "", "  ")


def _fill(text: str, width: int, first: str, rest: str) -> str:
    """Wrapped at spaces only: `re-plan` and `/approve` stay whole."""
    return textwrap.fill(
        text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False, break_long_words=False
    )


def argument_choices(app: ChatApp, prefix: str) -> Iterable[str]:
    """What may follow `/prefix ` (for completion)."""
    name, _, sub = prefix.partition(" ")
    if name == "model":
        return app.installed
    if name == "tools":
        return ("enable", "disable") if not sub else app.factory.available_tools()
    if name == "approve":
        return (*APPROVAL_MODES, *app.settings.tools) if not sub else APPROVAL_MODES
    entry = COMMANDS.get(name)
    return entry.choices if entry else ()


# -- session ---------------------------------------------------------------------------------------------------
@command("help", "", "show this help")
async def _help(app: ChatApp, arg: str) -> None:
    app.screen.raw(help_text(app.screen.width))


@command("exit", "", "leave the chat (also Ctrl-D)")
async def _exit(app: ChatApp, arg: str) -> None:
    app.running = False


@command("new", "", "start a new conversation (the current one stays in /sessions)")
async def _new(app: ChatApp, arg: str) -> None:
    from castling.cli.app import Totals

    app.session_id = new_session_id()
    app.last_answer = ""
    app.totals = Totals()  # /usage is about this conversation
    app.screen.info(f"new session {app.session_id}")


@command("sessions", "", "list recent sessions")
async def _sessions(app: ChatApp, arg: str) -> None:
    rows = app.index.recent()
    if not rows:
        app.screen.info("no saved sessions yet")
    for row in rows:
        mark = "*" if row.id == app.session_id else " "
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.updated))
        app.screen.raw(f"{mark} {row.id}  {when}  {row.model:<16} {row.turns:>3} turns  {row.title}")


@command("resume", "ID", "continue a saved session")
async def _resume(app: ChatApp, arg: str) -> None:
    from castling.cli.session_view import resume

    await resume(app, arg)


@command(
    "save",
    "PATH",
    "save this conversation as a replayable scenario (castling replay PATH); a conversation interrupted, "
    "edited/rejected at approval, or with settings changed mid-way replays at the wire only",
)
async def _save(app: ChatApp, arg: str) -> None:
    if not await app.wait_ready():  # save_scenario imports langchain-core: not while the import thread runs
        return
    from castling.cli.save_scenario import save_session

    await save_session(app, arg)


# -- model -----------------------------------------------------------------------------------------------------
@command("model", "NAME", "switch model, keeping the conversation")
async def _model(app: ChatApp, arg: str) -> None:
    if not arg:
        app.screen.info(f"model: {app.settings.model} (installed: {', '.join(app.installed) or 'unknown'})")
        return
    try:
        await app.factory.server.ashow(arg)
    except CastlingError as exc:
        app.screen.error(str(exc))
        return
    await _change(app, "model", arg)


@command("backbone", "|".join(BACKBONES), "pick the backbone family for the model", tuple(BACKBONES))
async def _backbone(app: ChatApp, arg: str) -> None:
    if arg not in BACKBONES:  # read now: a family registered in code after this module loaded counts too
        app.screen.error(f"usage: /backbone {'|'.join(BACKBONES)}")
        return
    await _change(app, "backbone", arg)


@command("strategy", "tools|plan", "tools: native tool loop; plan: plan, execute, re-plan", ("tools", "plan"))
async def _strategy(app: ChatApp, arg: str) -> None:
    if arg not in ("tools", "plan"):
        app.screen.error("usage: /strategy tools|plan")
        return
    await _change(app, "strategy", arg)


@command("think", "on|off", "let the model think before answering", ("on", "off"))
async def _think(app: ChatApp, arg: str) -> None:
    if arg not in ("on", "off"):
        app.screen.error("usage: /think on|off")
        return
    await _change(app, "think", arg == "on")


@command("set", "PARAM VALUE", "set an Ollama option (num_ctx, temperature, seed, ...)", OLLAMA_OPTIONS)
async def _set(app: ChatApp, arg: str) -> None:
    name, _, raw = arg.partition(" ")
    if not name:
        chosen = app.settings.options
        app.screen.info("set: " + (" ".join(f"{k}={v}" for k, v in chosen.items()) or "nothing (the defaults)"))
        sent = await app.sent_options()
        if sent:
            app.screen.info("sent to the model: " + " ".join(f"{k}={v}" for k, v in sent.items()))
        return
    if not raw.strip():
        app.screen.error("usage: /set PARAM VALUE (e.g. /set num_ctx 16384)")
        return
    value = parse_value(raw.strip())
    old = app.settings.options
    app.settings.options = {**old, name: value}
    if app.rebuild():
        app.screen.info(f"{name} = {value}")
    else:
        app.settings.options = old


async def _change(app: ChatApp, attribute: str, value: object) -> None:
    """Change one setting and rebuild the agent; on a configuration error, keep the old setting."""
    old = getattr(app.settings, attribute)
    setattr(app.settings, attribute, value)
    if app.rebuild():
        shown = ("on" if value else "off") if isinstance(value, bool) else value
        if isinstance(value, list):
            shown = ", ".join(value) or "none"
        app.screen.info(f"{attribute}: {shown}")
    else:
        setattr(app.settings, attribute, old)


# -- tools -----------------------------------------------------------------------------------------------------
@command("tools", "[enable|disable NAME]", "list the tools, or turn one on or off")
async def _tools(app: ChatApp, arg: str) -> None:
    action, _, name = arg.partition(" ")
    name = TOOL_ALIASES.get(name.strip(), name.strip())
    if not action:
        for tool in app.factory.available_tools():
            state = "on " if tool in app.settings.tools else "off"
            source = app.factory.tool_sources.get(tool)
            server = f"  (MCP: {source})" if source else ""
            app.screen.raw(f"  {state} {tool:<12} approval: {app.settings.approval_for(tool)}{server}")
        return
    if action not in ("enable", "disable") or not name:
        app.screen.error("usage: /tools [enable|disable NAME]")
        return
    enabled = [t for t in app.settings.tools if t != name] + ([name] if action == "enable" else [])
    await _change(app, "tools", enabled)


@command("approve", "[TOOL] ask|auto|never", "ask before a tool runs, run it freely, or never run it")
async def _approve(app: ChatApp, arg: str) -> None:
    words = arg.split()
    if not words:
        for tool in app.settings.tools or app.factory.available_tools():
            app.screen.raw(f"  {tool:<12} {app.settings.approval_for(tool)}")
        return
    try:
        mode = check_mode(words[-1])
    except ValueError as exc:
        app.screen.error(str(exc))
        return
    targets = [TOOL_ALIASES.get(words[0], words[0])] if len(words) > 1 else app.settings.tools
    old = dict(app.settings.approval)
    for tool in targets:
        app.settings.approval[tool] = mode
    if not app.rebuild():  # e.g. asking needs the tools strategy
        app.settings.approval = old
        return
    app.screen.info(f"approval {mode} for {', '.join(targets) or 'no tools (none enabled)'}")


@command("verbose", "", "toggle full tool output")
async def _verbose(app: ChatApp, arg: str) -> None:
    app.settings.verbose = not app.settings.verbose
    app.screen.info(f"verbose: {'on' if app.settings.verbose else 'off'}")


@command("multiline", "", "toggle multiline input (Enter adds a line, Esc Enter sends)")
async def _multiline(app: ChatApp, arg: str) -> None:
    app.settings.multiline = not app.settings.multiline
    app.screen.info(f"multiline: {'on' if app.settings.multiline else 'off'}")


# -- output ----------------------------------------------------------------------------------------------------
@command("usage", "", "model calls, tokens, speed and tool calls of this conversation (since /new)")
async def _usage(app: ChatApp, arg: str) -> None:
    t = app.totals
    speed = f"{t.usage.tokens_per_second:.1f} tok/s" if t.usage.tokens_per_second else "n/a"
    app.screen.raw(
        f"turns {t.turns} · model calls {t.usage.calls} · prompt tokens {t.usage.prompt_tokens} · "
        f"output tokens {t.usage.completion_tokens} · {speed} · tool calls {t.tool_calls} · interrupted {t.interrupted}"
    )


@command("context", "", "the context window: budget, the next request's size, its biggest items")
async def _context(app: ChatApp, arg: str) -> None:
    from castling.cli.context_view import context_report

    app.screen.raw(await context_report(app))


@command("compact", "", "compact the next request now (shorten old tool results, summarise older turns)")
async def _compact(app: ChatApp, arg: str) -> None:
    if app.agent is None:
        app.screen.info("nothing to compact yet")
        return
    app.agent.backbone.context_guard.force = True
    app.screen.info("the next request will be compacted (the session keeps the full history)")


@command("markdown", "", "print the last answer as raw Markdown")
async def _markdown(app: ChatApp, arg: str) -> None:
    if not app.last_answer:
        app.screen.info("no answer yet")
        return
    app.screen.raw(app.last_answer)


@command("copy", "", "copy the last answer to the clipboard (OSC 52; also printed raw)")
async def _copy(app: ChatApp, arg: str) -> None:
    if not app.last_answer:
        app.screen.info("no answer yet")
        return
    if app.screen.styled:  # terminals (and tmux with set-clipboard) put OSC 52 text on the clipboard
        encoded = base64.b64encode(app.last_answer.encode()).decode()
        app.screen.out.write(f"\x1b]52;c;{encoded}\x07")
    app.screen.raw(app.last_answer)
    app.screen.info(f"copied {len(app.last_answer)} characters")
