"""The capped reader's decompression stays bounded per chunk, not just in total."""

from __future__ import annotations

import gzip
import zlib

import pytest

from castling.tools.web._reader import _Inflater, format_size, parse_size


def test_one_bomb_chunk_never_inflates_past_the_budget() -> None:
    chunk = gzip.compress(b"\0" * (32 << 20), 9)[: 16 << 10]  # one 16 KiB network read of a 32 MiB bomb
    out = _Inflater("gzip").feed(chunk, budget=1 << 20)
    assert len(out) == (1 << 20) + 1  # one byte over the budget signals overflow; nothing more was inflated


def test_raw_deflate_without_zlib_header_is_accepted() -> None:
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    data = raw.compress(b"raw deflate body") + raw.flush()
    assert _Inflater("deflate").feed(data, budget=100) == b"raw deflate body"


@pytest.mark.parametrize(("text", "size"), [("5MiB", 5 << 20), ("500KB", 500_000), ("1 GiB", 1 << 30), ("1024", 1024)])
def test_sizes_parse_and_print(text: str, size: int) -> None:
    assert parse_size(text) == size
    assert format_size(5 << 20) == "5 MiB" and format_size(1536) == "1.5 KiB"
