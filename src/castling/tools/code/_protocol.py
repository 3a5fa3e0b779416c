"""The host side of the worker protocol: 4-byte big-endian length + JSON, capped, never unpickled."""

from __future__ import annotations

import json
import struct
from typing import Any

HEADER = struct.Struct(">I")


class FrameTooLarge(Exception):
    """The worker announced a frame above the cap: the stream cannot be trusted any more."""


def encode(message: dict[str, Any]) -> bytes:
    """Serialize one frame."""
    body = json.dumps(message).encode()
    return HEADER.pack(len(body)) + body


class FrameDecoder:
    """Incremental decoder: feed bytes, get complete frames.

    A length above `max_frame` raises `FrameTooLarge` before anything is buffered, so a forged 4 GB prefix
    costs nothing. Frames that are not a JSON object are dropped (the framing itself is still in sync).
    """

    def __init__(self, max_frame: int) -> None:
        self._max = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buffer += data
        frames: list[dict[str, Any]] = []
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            if size > self._max:
                raise FrameTooLarge(f"worker announced a {size}-byte frame (cap {self._max})")
            end = HEADER.size + size
            if len(self._buffer) < end:
                break
            body = bytes(self._buffer[HEADER.size : end])
            del self._buffer[:end]
            try:
                frame = json.loads(body)
            except ValueError:
                continue
            if isinstance(frame, dict):
                frames.append(frame)
        return frames
