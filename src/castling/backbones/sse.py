"""Server-sent events as OpenAI-compatible servers stream them: `data: {json}` lines, ending with `data: [DONE]`.

Follows the SSE rules (several `data:` lines of one event are joined, `:` comments and other fields skipped) and
tolerates what servers do instead: no blank line after a one-line event, no `[DONE]`, an `event: error` whose data
is a bare message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from castling.backbones.openai_stream import TurnAssembler, error_message

DONE = "[DONE]"
Event = dict[str, Any] | str
"""One SSE event: a parsed JSON chunk, or `DONE`."""


def feed_event(assembler: TurnAssembler, event: Event) -> bool:
    """Feed one SSE event; False at `[DONE]`."""
    if isinstance(event, str):
        return False
    assembler.feed(event)
    return True


class _SseDecoder:
    """SSE lines → events: `data:` lines of one event are joined; comments and other fields are skipped."""

    def __init__(self) -> None:
        self.data: list[str] = []
        self.event = ""

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


def sse_events(lines: Iterator[str]) -> Iterator[Event]:
    """The events in a stream of SSE lines."""
    decoder = _SseDecoder()
    for line in lines:
        event = decoder.line(line.rstrip("\r"))
        if event is not None:
            yield event
    last = decoder.flush()
    if last is not None:
        yield last


async def asse_events(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    """The events in an async stream of SSE lines."""
    decoder = _SseDecoder()
    async for line in lines:
        event = decoder.line(line.rstrip("\r"))
        if event is not None:
            yield event
    last = decoder.flush()
    if last is not None:
        yield last
