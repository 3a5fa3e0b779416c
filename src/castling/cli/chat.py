"""`castling chat`: start-up checks (one clear line per problem), then the REPL.

The agent runtime (langgraph, langchain-core: most of the start-up time) is imported in a background thread while
the prompt shows; the checkpointer is opened and the agent built once it has loaded, and the first turn waits for
that (`ChatApp.wait_ready`). Configuration errors are still reported before the prompt: `AgentFactory.check`
needs no langgraph. Whatever needs langchain-core in this thread (tools, `/resume`, `/save`) is imported before the
import thread starts or after it is done, never at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from castling.backbones.server import AnyTransport
from castling.backbones.servers import api_key_for
from castling.cli.agent_setup import RUNTIME_IMPORT, AgentFactory, ToolFactory
from castling.cli.app import ChatApp
from castling.cli.commands import COMMANDS, argument_choices
from castling.cli.inputs import LinePrompter, Prompter, SlashCompleter, ToolkitPrompter
from castling.cli.models import choose_model
from castling.cli.paths import data_dir, private_file
from castling.cli.recording import SessionRecorder
from castling.cli.render import Screen
from castling.cli.sessions import SessionIndex, open_checkpointer
from castling.cli.settings import TOOL_ALIASES, ChatSettings, parse_approve
from castling.errors import CastlingError, ConfigError
from castling.tools.builtins import BUILTIN_TOOLS

PULL_HINT = "ollama pull qwen3:8b"
RUNTIME_MODULES = ("castling.agents.agent", "castling.agents.approval", "langgraph.checkpoint.sqlite.aio")
"""Imported in the background while the prompt shows (most of the start-up time)."""


class ChatOptions(BaseModel):
    """What `castling chat` was started with."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    host: str | None = None
    server: str = "ollama"
    """The API the host speaks (`ollama`, `openai`)."""
    api_key: str | None = Field(default=None, repr=False)
    """The bearer key for an OpenAI-compatible server (None: $CASTLING_API_KEY); sent as a header, never saved."""
    tools: str | None = None
    """Comma-separated tool names (`python,fetch`), `none`, or None for every installed built-in tool."""
    approve: str | None = None
    strategy: str | None = None
    backbone: str | None = None
    think: bool | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    resume: str | None = None
    """A session id, `""` for the most recent one, None for a new session."""
    db: str | None = None
    """A checkpointer URL (`postgresql://…`, `sqlite:///…`) for the conversations; None: the data dir's SQLite."""
    plain: bool = False
    mcp: list[str] = Field(default_factory=list)
    """MCP server commands (`--mcp`, repeatable); their tools are on and ask before each call by default."""
    mcp_config: str | None = None
    """A JSON file in the `mcpServers` shape (Claude Desktop, VS Code)."""


async def start_chat(
    options: ChatOptions,
    *,
    transport: AnyTransport | None = None,
    prompter: Prompter | None = None,
    screen: Screen | None = None,
    extra_tools: Mapping[str, ToolFactory] | None = None,
    clock: Callable[[], float] = time.monotonic,
    handle_signals: bool = False,
) -> int:
    """Check the server and model, then run the chat; returns the exit status."""
    screen = screen or Screen(styled=False if options.plain else None)
    try:
        folder = data_dir()
    except CastlingError as exc:
        screen.error(str(exc))
        return 1
    try:
        api_key = api_key_for(options.server, options.api_key)
    except ConfigError as exc:
        screen.error(str(exc))
        return 2
    index = SessionIndex(private_file(folder / "sessions.db"))
    async with contextlib.AsyncExitStack() as stack:
        recorder = SessionRecorder.wrap(transport)  # from the start, so /save has every model turn (no headers)
        factory = AgentFactory.create(
            options.host, None, recorder.transport, extra_tools, server=options.server, api_key=api_key
        )
        factory.http_recorder = recorder.http_wrapper()
        mcp_tools = await _open_mcp(options, factory, screen)
        settings = None if mcp_tools is None else await _startup_settings(options, factory, index, screen, mcp_tools)
        if settings is None:
            await factory.aclose()
            return 1
        app = ChatApp(settings, factory, index, screen, prompter or _prompter(folder), clock=clock)
        app.handle_signals = handle_signals
        app.recorder = recorder
        app.installed = await factory.server.alist_models()
        if isinstance(app.prompter, ToolkitPrompter):
            app.prompter.session.completer = SlashCompleter(lambda: COMMANDS, lambda p: argument_choices(app, p))
        return await _run(app, options.resume, stack, options.db or private_file(folder / "checkpoints.db"))


async def _open_mcp(options: ChatOptions, factory: AgentFactory, screen: Screen) -> list[str] | None:
    """Start the MCP servers (off the event loop: npx may take a while); None once the reason is shown."""
    from castling.cli.mcp_servers import chat_servers

    names: list[str] = []
    try:
        for server in chat_servers(options.mcp, options.mcp_config):
            tool_set = await asyncio.to_thread(server.open_tools)
            names += factory.add_tool_set(server.spec.label, tool_set)
    except (CastlingError, ImportError) as exc:  # a bad config, or a server that did not start (McpToolError)
        screen.error(" ".join(str(exc).split()))
        return None
    return names


async def _startup_settings(
    options: ChatOptions, factory: AgentFactory, index: SessionIndex, screen: Screen, mcp_tools: list[str]
) -> ChatSettings | None:
    """The chat's settings, or None once the reason it cannot start is shown."""
    try:
        settings = await _settings(options, factory, index, mcp_tools)
    except CastlingError as exc:
        screen.error(str(exc))
        return None
    if options.tools is None:
        settings.tools = _usable_default_tools(settings.tools, factory, screen)  # MCP tools are already open
    return settings


async def _run(app: ChatApp, resume_id: str | None, stack: contextlib.AsyncExitStack, db: Path | str) -> int:
    """Check the settings, load the runtime in the background, greet, resume if asked, then run the REPL."""
    runtime: asyncio.Future[None] | None = None
    try:
        if not app.rebuild():  # checks the settings (and builds the tools) without langgraph
            return 1
        # Started only now: the tools import langchain-core in this thread, and two threads importing the same
        # package at once can trip the import system's deadlock detection on its circular imports.
        runtime = _import_runtime()
        app.ready = asyncio.ensure_future(_load_runtime(app, runtime, stack, db))
        await _greet(app)
        if resume_id is not None:
            from castling.cli.session_view import resume

            if not await resume(app, resume_id):
                return 1
        return await app.run()
    finally:
        await _stop_loading(app, runtime)
        await app.factory.aclose()


async def _stop_loading(app: ChatApp, runtime: asyncio.Future[None] | None) -> None:
    """Let a background load end before the chat closes (or drop it while it is still importing)."""
    if app.ready is None or runtime is None:
        return
    if not runtime.done():
        app.ready.cancel()  # still importing: nothing to undo (the thread ends on its own)
    # else let it finish: cancelling aiosqlite mid-connect leaves its thread writing to a closed loop
    with contextlib.suppress(BaseException):
        await app.ready


def _import_runtime() -> asyncio.Future[None]:
    """Import langgraph, langchain-core and the agent in a daemon thread; the future is done when they are."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def report(error: BaseException | None) -> None:
        if not done.done():
            done.set_result(None) if error is None else done.set_exception(error)

    def work() -> None:
        error: BaseException | None = None
        try:
            with RUNTIME_IMPORT:
                for name in RUNTIME_MODULES:
                    importlib.import_module(name)
        except Exception as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the chat already ended and closed its loop
            loop.call_soon_threadsafe(report, error)

    threading.Thread(target=work, name="castling-import", daemon=True).start()
    return done


async def _load_runtime(
    app: ChatApp, runtime: asyncio.Future[None], stack: contextlib.AsyncExitStack, db: Path | str
) -> None:
    """Once the runtime is imported: open the checkpointer and build the agent."""
    await runtime
    app.factory.checkpointer = await stack.enter_async_context(open_checkpointer(db))
    if app.agent is None:
        app.rebuild(quiet=True)  # the settings were checked (and any note shown) before the prompt


async def _settings(
    options: ChatOptions, factory: AgentFactory, index: SessionIndex, mcp_tools: list[str]
) -> ChatSettings:
    installed = await factory.server.alist_models()  # raises OllamaUnreachable with what to do
    if not installed:
        raise ConfigError(f"No models are installed on {factory.server.host}: run `{PULL_HINT}`, then try again.")
    model = options.model
    if model is None and options.resume is not None:
        session = index.recent(1)[0] if not options.resume and index.recent(1) else index.get(options.resume)
        model = session.model if session else None
    if model is None:
        model = await choose_model(installed, lambda name: _supports_tools(factory, name))
    else:
        await factory.server.ashow(model)  # raises ModelNotFound with the pull command and installed models
    assert model is not None
    settings = ChatSettings(
        model=model,
        backbone=options.backbone,
        strategy=options.strategy,
        think=options.think,
        options=dict(options.options),
        tools=_tools(options.tools) + mcp_tools,
        ask_first=frozenset(mcp_tools),
    )
    parse_approve(options.approve, settings)
    return settings


def _usable_default_tools(names: list[str], factory: AgentFactory, screen: Screen) -> list[str]:
    """The default tools that can be set up here; the others are left out with a warning (asked-for ones fail)."""
    usable = []
    for name in names:
        try:
            factory.tool(name)
        except CastlingError as exc:
            screen.warn(f"the {name} tool is off: {' '.join(str(exc).split())}")
        else:
            usable.append(name)
    return usable


async def _supports_tools(factory: AgentFactory, name: str) -> bool:
    try:
        return (await factory.server.ashow(name)).supports_tools
    except CastlingError:
        return False


def _tools(spec: str | None) -> list[str]:
    if spec is None:
        return [name for name in BUILTIN_TOOLS if _installed(name)]
    if spec.strip() in ("", "none"):
        return []
    return [TOOL_ALIASES.get(part.strip(), part.strip()) for part in spec.split(",") if part.strip()]


def _installed(name: str) -> bool:
    return BUILTIN_TOOLS[name].installed()


async def _greet(app: ChatApp) -> None:
    settings = app.settings
    tools = ", ".join(f"{t} ({settings.approval_for(t)})" for t in settings.tools) or "none"
    strategy = app.factory.check(settings)[1]
    app.screen.info(f"castling chat · {settings.model} · strategy {strategy} · tools: {tools} · /help for commands")
    info = await app.factory.server.ashow(settings.model)
    if settings.tools and not info.supports_tools and strategy == "tools":
        app.screen.warn(
            f"{settings.model} does not support tools: use /strategy plan, /tools disable NAME, or a tool-capable "
            "model such as qwen3:8b"
        )


def _prompter(folder: Any) -> Prompter:
    if sys.stdin.isatty():
        return ToolkitPrompter(history=private_file(folder / "history"))
    return LinePrompter()
