"""The prompts of the plan strategy's model calls.

Tools are described in the prompt text (never as Ollama `tools`): `format` and `tools` in one request breaks
llama3.2's output (ollama#10552).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from castling.backbones.context import estimate_text
from castling.backbones.wire import WireTool

PLANNER = """You plan how to answer the user's request with the tools listed below.
Write a short plan: the fewest steps that get the information needed, in order, one tool use per step.
The last step's result, together with the earlier ones, must be enough to answer.
If the request needs no tool (a greeting, small talk, arithmetic, general knowledge), return no steps and
put your reply to the user in "answer".
Only name tools from this list:
{tools}
Reply with JSON only."""

EXECUTOR = """You carry out ONE step of a plan, using at most one tool.
Tools (name, description, JSON schema of the arguments):
{tools}
Reply with JSON only: {{"tool": "<tool name>", "arguments": {{...}}, "answer": null}} to call a tool, or
{{"tool": null, "arguments": {{}}, "answer": "<the step's result>"}} when the step needs no tool."""

PLAN_CHECK = """
First set "plan": "on_track" if the remaining plan still fits the results so far, or "revise" if a result shows
the plan must change or the results already answer the user's request (then the plan is revised before this step
runs)."""

REPLANNER = """You check progress on the user's request and decide what happens next.
If the results so far answer the request, set "done" to true and write the final answer for the user in
"answer", using the results. Otherwise set "done" to false and list in "steps" only the steps still to do
(keep the remaining plan unless a result shows it must change).
Only name tools from this list:
{tools}
Reply with JSON only."""

RESPONDER = """Answer the user's request from the results gathered so far. Reply with JSON only."""


def tool_lines(tools: Sequence[WireTool], *, with_schema: bool) -> str:
    """The tools as prompt text: one line each, with the argument schema when the model must call them."""
    if not tools:
        return "(no tools are available)"
    lines = []
    for tool in tools:
        function: dict[str, Any] = tool["function"]
        line = f"- {function['name']}: {function.get('description', '').strip()}"
        if with_schema:
            line += f" Arguments: {json.dumps(function.get('parameters') or {}, separators=(',', ':'))}"
        lines.append(line)
    return "\n".join(lines)


def numbered(steps: Sequence[dict[str, Any]]) -> str:
    """A plan as a numbered list."""
    return "\n".join(
        f"{i}. {s['goal']}" + (f" (tool: {s['tool']})" if s.get("tool") else "") for i, s in enumerate(steps, 1)
    )


def progress(
    objective: str, done: Sequence[dict[str, Any]], remaining: Sequence[dict[str, Any]], window: int | None = None
) -> str:
    """The user message every call after planning sees: request, completed steps with results, what is left.

    Each result is quoted up to `RESULT_CHARS`, and, when the context `window` (tokens) is known, up to its share
    of two fifths of the window, so a run with many big step results still fits; a cut says so.
    """
    parts = [f"User request: {objective}"]
    if done:
        share = max(RESULT_MIN_TOKENS, window * 2 // 5 // len(done)) if window else None
        results = "\n".join(
            f"{i}. {s['goal']}\n   Result: {_clip(str(s['outcome']), share)}" for i, s in enumerate(done, 1)
        )
        parts.append(f"Completed steps and their results:\n{results}")
    if remaining:
        parts.append(f"Remaining plan:\n{numbered(remaining)}")
    return "\n\n".join(parts)


def unknown_tools_note(names: Sequence[str], available: Sequence[str]) -> str:
    """Feedback to the planner when its plan names tools that do not exist."""
    have = ", ".join(available) or "none"
    return (
        f"Your plan names tools that do not exist: {', '.join(names)}. The available tools are: {have}. "
        "Write the plan again using only these tools (or null where no tool is needed)."
    )


def invalid_reply_note(reason: str) -> str:
    """Feedback after a reply that was cut off or did not match the JSON schema."""
    return f"Your reply could not be used: {reason}. Reply again with one short, complete JSON object only."


RESULT_CHARS = 4000
"""How much of one step's result the later prompts quote (a fetched page can be far longer)."""
RESULT_MIN_TOKENS = 100
"""However small the window, a step result keeps this many tokens' worth."""


def _clip(text: str, tokens: int | None = None) -> str:
    limit = RESULT_CHARS
    if tokens is not None and text:  # characters for `tokens`, by the text's own script (CJK: ~1 a token)
        limit = min(limit, max(1, len(text) * tokens // max(1, estimate_text(text))))
    if len(text) <= limit:
        return text
    why = "" if limit == RESULT_CHARS else " to fit the context window"
    return f"{text[:limit]} [... {len(text) - limit} more characters cut{why}]"
