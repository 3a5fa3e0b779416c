"""The chat loop: read a line, run a slash command or a turn (streamed by `turn.py`), handle Ctrl-C.

Ctrl-C state machine:
- text in the input line: cleared (in `inputs`);
- empty line: "press Ctrl-C again or Ctrl-D to exit"; a second one within 2 s exits;
- model streaming or tool running: the turn's task is cancelled (closing the HTTP stream stops the server
  generating, a running tool is cancelled), then the partial answer, or an "interrupted" result for each tool call,
  is written into the thread, and the prompt returns;
- always: the terminal is restored (`Screen.restore`) on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from castling.backbones.usage import Usage
from castling.cli.agent_setup import AgentFactory
from castling.cli.inputs import Prompter
from castling.cli.recording import FAILED, SessionRecorder
from castling.cli.render import Screen
from castling.cli.sessions import SessionIndex, new_session_id
from castling.cli.settings import ChatSettings, default_approval, kept
from castling.cli.terminal import no_echo
from castling.cli.turn import Turn
from castling.errors import CapabilityMissing, CastlingError

if TYPE_CHECKING:  # the agent runtime (langgraph) is imported in the background while the prompt shows
    from castling.agents.agent import Agent

EXIT_WINDOW = 2.0
SPIN_EVERY = 0.1
"""Seconds between two frames of the activity indicator."""


@dataclass
class Totals:
    """Session usage for `/usage`."""

    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    tool_calls: int = 0
    interrupted: int = 0


class ChatApp:
    """One chat session in a terminal (or a test's pipe)."""

    def __init__(
        self,
        settings: ChatSettings,
        factory: AgentFactory,
        index: SessionIndex,
        screen: Screen,
        prompter: Prompter,
        *,
        session_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        handle_signals: bool = False,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.index = index
        self.screen = screen
        self.prompter = prompter
        self.session_id = session_id or new_session_id()
        self.clock = clock
        self.handle_signals = handle_signals
        self.totals = Totals()
        self.last_answer = ""
        self.installed: list[str] = []
        self.running = True
        self.agent: Agent | None = None
        self._turn: asyncio.Task[None] | None = None
        self._last_ctrl_c = float("-inf")
        self._modes: dict[str, str] = {}
        self.recorder: SessionRecorder | None = None
        """The wire recording `/save` writes from (set by `start_chat`)."""
        self.ready: asyncio.Future[None] | None = None
        """Done when the agent runtime (langgraph) is loaded and the checkpointer open (set by `start_chat`)."""

    # -- agent -----------------------------------------------------------------------------------------------
    def policy(self, name: str, arguments: Mapping[str, Any]) -> bool:
        """The approval policy the agent consults before each call.

        It reads the modes as they were when the turn started: a paused tools node (plan strategy: act node) replays
        its approvals on every resume, and answers are matched to questions by order, so the set of questions must
        not change mid-turn.
        An "always" given mid-turn is honoured by `decide`, which then answers for the user without asking.
        """
        mode = self._modes.get(name) or default_approval(name)
        return mode != "auto"

    def rebuild(self, *, quiet: bool = False) -> bool:
        """Build the agent from the settings; on a configuration error say why and keep the old one.

        Until the agent runtime has loaded (`ready`), the settings are only checked (same errors, same warning)
        and the agent is built when it has.
        """
        try:
            if self.factory.checkpointer is None:
                *_, note = self.factory.check(self.settings)
                agent = None
            else:
                agent, note = self.factory.agent(self.settings, self.policy)
        except CastlingError as exc:
            self.screen.error(str(exc))
            return False
        if note and not quiet:
            self.screen.warn(note)
        self.agent = agent
        self.index.remember(self.session_id, self.settings.model, kept(self.settings))  # for --resume
        return True

    async def wait_ready(self) -> bool:
        """Wait until the agent runtime has loaded in the background (see `chat.py`); False if it failed."""
        if self.ready is None:
            return True
        try:
            await asyncio.shield(self.ready)
        except Exception as exc:
            self.screen.error(f"the agent runtime could not be loaded: {type(exc).__name__}: {exc}")
            return False
        return True

    @property
    def config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.session_id}}

    # -- loop ------------------------------------------------------------------------------------------------
    async def run(self) -> int:
        """Read and answer until `/exit`, Ctrl-D or a double Ctrl-C."""
        from castling.cli.commands import run_command

        loop = asyncio.get_running_loop()
        if self.handle_signals:  # a real terminal: Ctrl-C is SIGINT whenever no prompt holds the terminal in raw mode
            loop.add_signal_handler(signal.SIGINT, self.interrupt)
        try:
            while self.running:
                try:
                    line = await self.prompter.read(self.prompt_text, multiline=self.settings.multiline)
                except KeyboardInterrupt:
                    self._ctrl_c_at_prompt()
                    continue
                except EOFError:
                    break
                if not line.strip():
                    continue
                if line.startswith("/"):
                    await run_command(self, line)
                else:
                    await self.turn(line)
        finally:
            if self.handle_signals:
                loop.remove_signal_handler(signal.SIGINT)
            self.screen.restore()
        return 0

    @property
    def prompt_text(self) -> str:
        return "... " if self.settings.multiline else ">>> "

    def _ctrl_c_at_prompt(self) -> None:
        now = self.clock()
        if now - self._last_ctrl_c <= EXIT_WINDOW:
            self.running = False
            return
        self._last_ctrl_c = now
        self.screen.info("Press Ctrl-C again or Ctrl-D to exit (or /exit).")

    # -- turns -----------------------------------------------------------------------------------------------
    async def turn(self, text: str) -> None:
        """Send one message and stream the answer; Ctrl-C (or `interrupt()`) stops it and keeps what was said."""
        if not await self.wait_ready() or (self.agent is None and not self.rebuild()):
            return
        self.index.touch(self.session_id, text, self.settings.model, kept(self.settings))
        if self.recorder is not None:
            self.recorder.turn_started(self.session_id, _snapshot(self.settings))
        self._modes = dict(self.settings.approval)  # the approval policy reads the modes as the turn started
        current = Turn(self)
        self._turn = asyncio.create_task(current.run(text))
        spinner = asyncio.create_task(self._spin())
        quiet = contextlib.ExitStack()
        if self.handle_signals:
            quiet.enter_context(no_echo())
        try:
            await asyncio.wait({self._turn})
            ended_early = self._turn.cancelled() or self._turn.exception() is not None
            if ended_early and current.call_open:  # the model call cut short never reported its usage: count it
                self.totals.usage = self.totals.usage + Usage(calls=1)
            if self._turn.cancelled():
                self.note("a reply was interrupted")
                await current.record_interruption()
            elif (exc := self._turn.exception()) is not None:
                self.note(FAILED)
                self.screen.error(_error_line(exc, self.settings.model))
                await current.record_cut_reply(exc)
        finally:
            spinner.cancel()
            self.screen.status(None)
            self.screen.step = ""
            quiet.close()
            self._turn = None
            self.screen.end_block()

    async def _spin(self) -> None:
        """Keep the activity indicator moving while the turn runs (it shows only while nothing else is printed)."""
        while True:
            await asyncio.sleep(SPIN_EVERY)
            self.screen.spin()

    def interrupt(self) -> None:
        """Stop the turn in flight (what Ctrl-C does while the model answers or a tool runs); else nothing."""
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()

    def note(self, why: str) -> None:
        """Tell the session recording (`/save`) something happened that a replay of the turn cannot reproduce."""
        if self.recorder is not None:
            self.recorder.note(why)

    async def sent_options(self) -> dict[str, Any]:
        """The Ollama options the backbone sends with the current settings (its defaults included); {} if unknown."""
        if self.agent is None:
            return {}
        with contextlib.suppress(CastlingError):
            info = await self.agent.backbone.server.ashow(self.settings.model)
            return dict(self.agent.backbone.settings(info, with_tools=False)[0])
        return {}


def _snapshot(settings: ChatSettings) -> tuple[Any, ...]:
    """The settings that shape the model requests (the agent runner replays a conversation with one set)."""
    s = settings
    return (s.model, s.backbone, s.strategy, s.think, sorted(s.options.items()), list(s.tools), s.system)


def _error_line(exc: BaseException, model: str) -> str:
    """The error as the chat user should read it (REPL commands rather than API arguments)."""
    if isinstance(exc, CapabilityMissing) and exc.capability == "tools":
        return (
            f"{model} does not support tools: switch to the plan strategy (/strategy plan), turn the tools off "
            "(/tools disable NAME), or use a tool-capable model (/model qwen3:8b)"
        )
    if not isinstance(exc, CastlingError):  # a bug rather than a user error: say so, and keep the chat alive
        return f"unexpected {type(exc).__name__}: {exc} (the chat goes on; please report this)"
    return str(exc)
