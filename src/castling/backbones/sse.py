"""Server-sent events as OpenAI-compatible servers stream them: `data: {json}` lines, ending with `data: [DONE]`.

Follows the SSE rules (several `data:` lines of one event are joined, `:` comments and other fields skipped) and
tolerates what servers do instead: no blank line after a one-line event, no `[DONE]`, an `event: error` whose data
is a bare message.
"""

from __future__ import annotations

import json
from typing import Any

from castling.backbones.openai_stream import TurnAssembler, error_message

DONE = "[DONE]"
Event = dict[str, Any] | str
"""One SSE event: a parsed JSON chunk, or `DONE`."""


class SseReader:
    """SSE lines → events fed to `assembler`: `data:` lines of one event are joined; comments, other fields skipped.

    The HTTP shells, sync and async, only hand it the lines (`feed` until it says stop, then `end`).
    """

    def __init__(self, assembler: TurnAssembler) -> None:
        self.assembler = assembler
        self.data: list[str] = []
        self.event = ""
        self.done = False

    def feed(self, line: str) -> bool:
        """Read one line; False at `[DONE]`, when the rest of the stream is not read."""
        event = self.line(line.rstrip("\r"))
        return event is None or self._give(event)

    def end(self) -> None:
        """The lines ran out or `[DONE]` came: feed the event still buffered without `[DONE]`, if any."""
        event = None if self.done else self.flush()
        if event is not None:
            self._give(event)

    def _give(self, event: Event) -> bool:
        if isinstance(event, str):
            self.done = True
            return False
        self.assembler.feed(event)
        return True

    def line(self, line: str) -> Event | None:
        """The event this line completes, if it completes one."""
        if not line:
            return self.flush()
        field, _, value = line.partition(":")
        if field == "data":
            value = value.removeprefix(" ")
            if not self.data:  # one-line events (all real servers) need no blank line after them
                if value == DONE:
                    return DONE
                try:
                    return self._event(json.loads(value))
                except ValueError:
                    pass
            self.data.append(value)
        elif field == "event":
            self.event = value.strip()
        return None

    def flush(self) -> Event | None:
        """The event buffered so far (at a blank line or the end of the stream)."""
        if not self.data:
            self.event = ""
            return None
        payload = "\n".join(self.data)
        self.data = []
        try:
            return self._event(json.loads(payload))
        except ValueError:
            return self._event(payload)

    def _event(self, value: Any) -> Event:
        name, self.event = self.event, ""
        chunk = value if isinstance(value, dict) else {}
        if name == "error" and error_message(chunk) is None:
            return {"error": {"message": str(value)}}  # an `event: error` with a bare message
        if not isinstance(value, dict):
            return {"error": {"message": f"the server sent a chunk that is not JSON: {str(value)[:200]!r}"}}
        return chunk
