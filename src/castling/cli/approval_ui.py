"""Asking the user before a tool call runs: once, always for this tool, edit, or reject with a reason."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from castling.agents.events import ApprovalEvent
from castling.cli.inputs import Prompter
from castling.cli.render import Screen
from castling.cli.settings import ChatSettings

if TYPE_CHECKING:
    from castling.agents.approval import Decision

QUESTION = "Run it? [Enter] once · [a]lways for this tool · [e]dit · [n]o > "
NEVER_REASON = "The user does not allow this tool to run (approval mode 'never')."


async def decide(event: ApprovalEvent, settings: ChatSettings, screen: Screen, prompter: Prompter) -> Decision:
    """The user's decision about one paused call (KeyboardInterrupt propagates: the turn is interrupted)."""
    from castling.agents.approval import Decision  # imported once a turn runs: langgraph is loaded by then

    mode = settings.approval_for(event.name)
    if mode == "never":
        screen.info(f"{event.name} is set to never run (/approve {event.name} ask to change that); the model is told")
        return Decision("reject", reason=NEVER_REASON)
    if mode == "auto":
        return Decision("run")
    code = event.arguments.get("code") if isinstance(event.arguments.get("code"), str) else None
    screen.line(f"⚙ {event.name} wants to run:")
    if code is not None:
        screen.code(code)
    else:
        screen.raw(json.dumps(event.arguments, indent=2, ensure_ascii=False))
    while True:
        answer = (await prompter.choose(QUESTION, "yaen")).strip().lower()
        if answer in ("", "y", "yes", "once", "r", "run"):
            return Decision("run")
        if answer in ("a", "always"):
            settings.approval[event.name] = "auto"
            screen.info(f"{event.name} now runs without asking (/approve {event.name} ask to undo)")
            return Decision("run")
        if answer in ("e", "edit"):
            edited = await _edit(event, code, screen, prompter)
            if edited is not None:
                return edited
            continue
        if answer in ("n", "no", "reject"):
            reason = await prompter.ask("Why not? (the model reads this) > ")
            return Decision("reject", reason=reason.strip())
        screen.info("answer with Enter, a, e or n")


async def _edit(event: ApprovalEvent, code: str | None, screen: Screen, prompter: Prompter) -> Decision | None:
    from castling.agents.approval import Decision

    screen.info("edit, then Esc Enter to run it (Ctrl-X Ctrl-E opens $EDITOR)")
    if code is not None:
        new_code = await prompter.ask("", default=code, multiline=True)
        return Decision("edit", {**event.arguments, "code": new_code})
    text = await prompter.ask("", default=json.dumps(event.arguments, ensure_ascii=False), multiline=True)
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as exc:
        screen.error(f"the arguments are not valid JSON ({exc.msg}); choose again")
        return None
    if not isinstance(arguments, dict):
        screen.error("the arguments must be a JSON object; choose again")
        return None
    return Decision("edit", arguments)
