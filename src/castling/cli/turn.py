"""One chat turn: stream the agent's events to the screen, ask its approval questions, keep what was said.

`ChatApp.turn` (`app.py`) runs `Turn.run` as a task, cancels it on Ctrl-C, and then asks the `Turn` to record
the interruption (or the reply an error cut short), from what the turn had shown by then.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from castling.agents.events import (
    ApprovalEvent,
    Event,
    FinalEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)
from castling.backbones.usage import Usage
from castling.cli.approval_ui import decide
from castling.errors import ModelStreamError

if TYPE_CHECKING:  # the agent runtime (langgraph) is imported in the background while the prompt shows
    from castling.agents.approval import Resume
    from castling.cli.app import ChatApp


class Turn:
    """The turn in flight and what it has shown so far, so that an interruption loses nothing."""

    def __init__(self, app: ChatApp) -> None:
        self.app = app
        self.screen = app.screen
        self.settings = app.settings
        self.prompter = app.prompter
        self.partial = ["", ""]  # answer text and thinking of the model call in flight
        self.tools_running = 0
        self.rejected: dict[str, str] = {}
        """Calls rejected at the approval question in this turn (id → reason): not shown again as if they ran."""
        self.call_open = False
        """A model call was sent and has not reported its usage: an interruption now still counts it."""
        self.last_call = Usage()

    async def record_interruption(self) -> None:
        """Say what the interruption kept, and write the partial answer (or the interrupted tools) into the thread."""
        text, thinking = self.partial
        self.screen.status(None)
        self.screen.end_block()
        if self.tools_running:
            what = "the tool was stopped and its result recorded as interrupted"
        elif text or thinking:
            what = "the partial answer is kept in the conversation"
        else:
            what = "back to the prompt"
        self.screen.line(f"^C interrupted: {what}", "\x1b[33m")
        self.app.totals.interrupted += 1
        if text:
            self.app.last_answer = text
        assert self.app.agent is not None
        try:
            await self.app.agent.arecord_interruption(self.app.session_id, text, thinking)
        except Exception as exc:  # the chat must survive; the next turn still works from the last checkpoint
            self.screen.warn(f"the interruption could not be written into the session ({type(exc).__name__}: {exc})")

    async def record_cut_reply(self, exc: BaseException) -> None:
        """A reply cut by an error mid-stream: keep what was shown in the conversation, marked with the error."""
        text, thinking = self.partial
        if isinstance(exc, ModelStreamError):  # the reply was cut short: /usage counts it as interrupted
            self.app.totals.interrupted += 1
        if not text.strip() or self.app.agent is None:
            return  # nothing was said: the conversation stays as the last checkpoint left it
        self.app.last_answer = text
        try:
            await self.app.agent.arecord_interruption(self.app.session_id, text, thinking, error=str(exc))
        except Exception as failure:  # the chat must survive; the next turn still works from the last checkpoint
            self.screen.warn(f"the partial answer could not be written into the session ({failure})")
            return
        self.screen.info("the partial answer is kept in the conversation, marked as cut off by the error")

    async def run(self, text: str) -> None:
        """Stream the agent's answer to `text`, asking at each approval question, until it has answered."""
        from castling.agents.approval import Resume

        assert self.app.agent is not None
        task: str | Resume = text
        self.call_open = True
        turn_usage = Usage()
        self.screen.status("planning: waiting for the model" if self._plans() else "waiting for the model")
        while True:
            pending: ApprovalEvent | None = None
            async for event in self.app.agent.astream(task, thread_id=self.app.session_id):
                if isinstance(event, ApprovalEvent):
                    pending = event
                elif isinstance(event, UsageEvent):
                    turn_usage = turn_usage + event.usage
                    self.app.totals.usage = self.app.totals.usage + event.usage  # now: the turn may yet be interrupted
                    self.last_call = event.usage
                    self.call_open = False
                else:
                    self._show(event)
            if pending is None:
                break
            self.screen.status(None)
            self.screen.end_block()
            self.tools_running = 1  # a call waits at the approval question
            try:
                decision = await decide(pending, self.settings, self.screen, self.prompter)
            except (KeyboardInterrupt, EOFError):
                raise asyncio.CancelledError from None  # Ctrl-C (or Ctrl-D) at the approval question stops the turn
            self.tools_running = 0
            if decision.action != "run":
                self.app.note(f"a {pending.name} call was {'edited' if decision.action == 'edit' else 'rejected'}")
            if decision.action == "reject":
                self.rejected[pending.call_id] = decision.reason
            self.screen.status("waiting for the model")
            self.call_open = True
            task = Resume(decision)
        self.app.totals.turns += 1
        await self._footer(turn_usage)

    def _plans(self) -> bool:
        """Whether the agent uses the plan strategy (its first model call makes a plan)."""
        return getattr(self.app.agent, "strategy", self.settings.strategy) == "plan"

    def _show(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.partial[0] += event.text
            self.screen.text(event.text)
        elif isinstance(event, ThinkingDelta):
            self.partial[1] += event.text
            self.screen.thinking(event.text)
        elif isinstance(event, ToolCallEvent):
            self.partial = ["", ""]
            self.tools_running += 1
            if event.call_id in self.rejected:
                return  # shown at the approval question; it does not run
            self.call_open = False
            self.app.totals.tool_calls += 1
            self.screen.tool_call(event.name, event.arguments, event.call_id)
            self.screen.status(f"running {event.name}")
        elif isinstance(event, ToolResultEvent):
            self.tools_running -= 1
            if event.call_id in self.rejected:
                reason = self.rejected.pop(event.call_id)
                self.screen.line(f"  ✗ {event.name} not run: rejected" + (f" ({reason})" if reason else ""), "\x1b[33m")
            else:
                self.screen.tool_result(event.name, event.result, event.error, self.settings.verbose, event.call_id)
            self.screen.status("waiting for the model")
            self.call_open = True
        elif isinstance(event, FinalEvent):
            self.app.last_answer = event.result.answer
        elif self.screen.plan_event(event):  # plans and their revisions, steps (plan strategy)
            self.call_open = True  # the next model call (a step, the re-planner, the answer) follows
        else:
            self.screen.info(_describe(event))

    async def _footer(self, usage: Usage) -> None:
        if not usage.calls or self.app.agent is None:
            return
        num_ctx = (await self.app.sent_options()).get("num_ctx")
        last = self.last_call
        self.screen.footer(usage, num_ctx, last.prompt_tokens + last.completion_tokens)
        notices: list[str] = getattr(self.app.agent.backbone, "notices", [])
        for notice in notices:  # e.g. the window asked for does not fit in memory (said once per backbone)
            self.screen.info(notice)
        notices.clear()


def _describe(event: object) -> str:
    kind = getattr(event, "kind", type(event).__name__)
    body = getattr(event, "plan", None) or getattr(event, "text", None) or event
    return f"[{kind}] {body}"
