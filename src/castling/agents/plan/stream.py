"""Stream the answer string out of a structured (JSON) reply while the model is still writing it.

The plan strategy's final answer is a field of a JSON reply (`Replan.answer`, `Plan.answer`,
`FinalAnswer.answer`). `AnswerStream` scans the streamed JSON text once, character by character, and passes
on the decoded characters of the top-level `"answer"` string as they arrive, so the user sees the answer being
written without a second model call. A gate decides, from the top-level values seen before `"answer"` (the
schema orders them first: `done`, `steps`), whether this reply's answer is the final one; when it cannot tell
yet (a reply that ignored the schema's order) nothing is streamed and the answer arrives whole at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

Gate = Callable[[Mapping[str, str]], "bool | None"]
"""Raw JSON text of the top-level values so far → True (stream), False (never) or None (cannot tell yet)."""


def always(values: Mapping[str, str]) -> bool | None:
    """Gate for replies whose answer is always final (`FinalAnswer`)."""
    return True


def when_done(values: Mapping[str, str]) -> bool | None:
    """Gate for the re-planner: the answer is final when `"done": true` came first."""
    return None if "done" not in values else values["done"] == "true"


def when_no_steps(values: Mapping[str, str]) -> bool | None:
    """Gate for the planner: the answer is final when the plan has no steps."""
    return None if "steps" not in values else "".join(values["steps"].split()) == "[]"


class AnswerStream:
    """An incremental scanner for one top-level string field of a JSON object."""

    def __init__(self, gate: Gate, key: str = "answer") -> None:
        self.gate, self.key = gate, key
        self.shown = ""
        """Everything passed on so far, over all attempts."""
        self.values: dict[str, str] = {}
        self._dead = False
        self._reset()

    def _reset(self) -> None:
        self._text = ""
        self._depth = 0
        self._in_string = self._streaming = False
        self._escape = ""
        self._string_start = 0
        self._expect_key = True
        self._current: str | None = None
        self._value_start: int | None = None

    def begin_attempt(self) -> None:
        """A new reply (a retry): scan it afresh, but stream nothing more once something was shown."""
        self._reset()
        self.values = {}
        self._dead = self._dead or bool(self.shown)

    def feed(self, chunk: str) -> str:
        """The answer text this chunk adds ("" when none)."""
        if self._dead:
            return ""
        out: list[str] = []
        start = len(self._text)
        self._text += chunk
        for index, char in enumerate(chunk, start):
            if self._in_string:
                self._string_char(char, index, out)
            else:
                self._structural(char, index)
            if self._stopped():
                break
        text = "".join(out)
        self.shown += text
        return text

    def _stopped(self) -> bool:
        return self._dead

    def _string_char(self, char: str, index: int, out: list[str]) -> None:
        if self._escape:
            self._escape += char
            if _escape_complete(self._escape):
                if self._streaming:
                    out.append(_decode(self._escape))
                self._escape = ""
        elif char == "\\":
            self._escape = char
        elif char == '"':
            self._in_string = False
            if self._streaming:
                self._dead = True  # the answer is complete; nothing after it matters
            elif self._depth == 1 and self._expect_key:
                self._current = _decode(self._text[self._string_start + 1 : index])
        elif self._streaming:
            out.append(char)

    def _structural(self, char: str, index: int) -> None:
        top_value = self._depth == 1 and not self._expect_key and self._value_start is None
        if char == '"':
            self._in_string, self._string_start = True, index
            if top_value:
                self._value_start = index
                if self._current == self.key:
                    self._streaming = bool(self.gate(self.values))
                    self._dead = not self._streaming
        elif char in "{[":
            if top_value:
                self._value_start = index
            self._depth += 1
        elif char in "}]":
            self._depth -= 1
            if self._depth == 0:
                self._finish_value(index)
        elif self._depth == 1 and char == ":":
            self._expect_key, self._value_start = False, None
        elif self._depth == 1 and char == ",":
            self._finish_value(index)
            self._expect_key = True
        elif top_value and not char.isspace():
            self._value_start = index

    def _finish_value(self, end: int) -> None:
        if self._current is not None and self._value_start is not None:
            self.values[self._current] = self._text[self._value_start : end].strip()
            if self.gate(self.values) is False:
                self._dead = True
        self._current, self._value_start = None, None


def rest_of(answer: str, shown: str) -> str:
    """What the final event must still show of `answer` after `shown` was streamed."""
    seen = shown.strip()
    if seen and answer.startswith(seen):
        return answer[len(seen) :]
    return answer


def _escape_complete(escape: str) -> bool:
    if len(escape) < 2 or (escape[1] == "u" and len(escape) < 6):
        return False
    if escape[1] == "u" and 0xD800 <= int(escape[2:6], 16) <= 0xDBFF:
        return len(escape) >= 12 or (len(escape) >= 7 and escape[6] != "\\")
    return True


def _decode(text: str) -> str:
    try:
        decoded: str = json.loads(f'"{text}"')
    except (ValueError, json.JSONDecodeError):
        return ""
    return decoded
