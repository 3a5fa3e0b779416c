"""Read a response body under a byte cap that also holds after decompression.

httpx's own decoders inflate each network chunk without a limit (a 64 KiB gzip chunk can become 64 MiB), so we
read the raw bytes and inflate them ourselves with `max_length`. Raw iteration is done without a chunk size: a
fixed chunk size makes httpx wait to fill it, which hides a slow drip from the caller's deadline.
"""

from __future__ import annotations

import zlib

import httpx

ACCEPT_ENCODING = "gzip, deflate"


class BodyRefused(Exception):
    """The body is too large or uses an encoding we do not decode; the message is one line for the model."""


class _Inflater:
    """Bounded gzip/deflate decoding (raw deflate and zlib-wrapped deflate both occur in the wild)."""

    def __init__(self, encoding: str) -> None:
        wbits = 47 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS  # 47 = auto-detect gzip/zlib header
        self._obj = zlib.decompressobj(wbits)
        self._deflate = encoding == "deflate"
        self._first = True

    def feed(self, data: bytes, budget: int) -> bytes:
        """Inflate `data`, producing at most `budget + 1` bytes (one more than allowed signals overflow)."""
        try:
            out = self._obj.decompress(data, budget + 1)
        except zlib.error:
            if not (self._deflate and self._first):
                raise
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate without zlib header
            out = self._obj.decompress(data, budget + 1)
        self._first = False
        # Pending input beyond the budget stays in unconsumed_tail and is never inflated.
        return out


def check_declared_length(response: httpx.Response, max_bytes: int) -> None:
    """Refuse before reading when `Content-Length` already exceeds the cap."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyRefused(f"the response is {format_size(int(declared))}, over the {format_size(max_bytes)} limit")


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Return the decoded body, or raise `BodyRefused` once it passes `max_bytes` (on the wire or decoded)."""
    check_declared_length(response, max_bytes)
    try:  # a replay transport may hand back a response already read (and decoded) into memory
        content = response.content
    except httpx.ResponseNotRead:
        pass
    else:
        if len(content) > max_bytes:
            raise BodyRefused(f"the response is over the {format_size(max_bytes)} limit")
        return content
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise BodyRefused(f"unsupported content encoding {encoding[:40]!r}")
    inflater = None if encoding in ("identity", "") else _Inflater(encoding)
    out = bytearray()
    wire = 0
    async for chunk in response.aiter_raw():
        wire += len(chunk)
        if wire > max_bytes:
            raise BodyRefused(f"the response is over the {format_size(max_bytes)} limit; stopped reading")
        try:
            out += inflater.feed(chunk, max_bytes - len(out)) if inflater else chunk
        except zlib.error as exc:
            raise BodyRefused(f"the {encoding} body is corrupt: {exc}") from exc
        if len(out) > max_bytes:
            raise BodyRefused(f"the decompressed response is over the {format_size(max_bytes)} limit; stopped")
    return bytes(out)


def format_size(n: int) -> str:
    """Human-readable byte count (e.g. `5 MiB`, `1.5 KiB`)."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" or size == int(size) else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def parse_size(value: int | str) -> int:
    """Parse `5MiB`, `500 KB`, `1048576` into bytes."""
    if isinstance(value, int):
        return value
    text = value.strip().lower().replace(" ", "")
    units = {"gib": 1 << 30, "mib": 1 << 20, "kib": 1 << 10, "gb": 10**9, "mb": 10**6, "kb": 10**3, "b": 1}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)
