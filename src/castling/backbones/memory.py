"""How big a context window the machine can hold: the KV cache's size per token, and the memory it may use.

Ollama allocates the whole KV cache for `num_ctx` tokens when it loads the model: per token, every layer keeps a
key and a value vector for each KV head. `/api/show`'s `model_info` gives the figures (`<arch>.block_count`,
`<arch>.attention.head_count_kv`, `<arch>.attention.key_length`/`value_length`, or `embedding_length /
head_count` for the head size). Asking for more than fits makes Ollama spill layers to the CPU or fail to load,
so the profile's window (Llama 4 Scout's 10M) is capped by what fits, and an explicit `num_ctx` that does not fit
is sent as asked but warned about.

What is assumed: the server's KV cache holds `OLLAMA_KV_CACHE_TYPE` elements (f16 unless this process's
environment says otherwise) for one parallel request, and may use `kv_memory` bytes: the backbone's
`kv_memory=`, else `CASTLING_KV_MEMORY`, else, for a server on this machine, half its physical RAM (the weights
and everything else keep the other half). For a remote server without either setting nothing is assumed and
nothing is capped.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_ELEMENT_BYTES = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
"""Bytes per cached element by llama.cpp's cache type (q8_0 and q4_0 blocks of 32 carry a 2-byte scale)."""
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2}
_UNITS |= {"g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4, "tib": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
MIN_NUM_CTX = 2048
"""Below this, an agent cannot hold its system prompt, tools and one result: never cap lower."""


def kv_values_per_token(model_info: Mapping[str, Any]) -> int | None:
    """Key and value elements cached per token over all layers, from `/api/show`'s `model_info`; None if unknown."""
    arch = str(model_info.get("general.architecture") or "")

    def figure(name: str) -> Any:
        return model_info.get(f"{arch}.{name}")

    layers, kv_heads = figure("block_count"), figure("attention.head_count_kv") or figure("attention.head_count")
    key, value = figure("attention.key_length"), figure("attention.value_length")
    if not key:
        embedding, heads = figure("embedding_length"), figure("attention.head_count")
        heads = max(heads) if isinstance(heads, list) and heads else heads
        key = value = embedding // heads if isinstance(embedding, int) and isinstance(heads, int) and heads else None
    if not isinstance(layers, int) or not key:
        return None
    per_layer = kv_heads if isinstance(kv_heads, list) else [kv_heads] * layers  # some models vary it by layer
    if not all(isinstance(h, int) for h in per_layer):
        return None
    return sum(per_layer[:layers]) * (int(key) + int(value or key))


def kv_bytes_per_token(values: int, cache_type: str | None = None) -> float:
    """Bytes the KV cache takes per token of window."""
    kind = (cache_type or os.environ.get("OLLAMA_KV_CACHE_TYPE") or "f16").lower()
    return values * _ELEMENT_BYTES.get(kind, 2.0)


def parse_size(size: int | str) -> int:
    """Bytes in `size`: an int, or `"8GiB"`, `"512 MB"`, `"16g"`; raises ValueError saying what is accepted."""
    if isinstance(size, int):
        return size
    match = _SIZE.match(size)
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"kv_memory={size!r} is not a size: use bytes or a number with a unit, e.g. '8GiB', '512MB'")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def memory_budget(kv_memory: int | str | None, host: str) -> tuple[int, str] | None:
    """Bytes the KV cache may use and where that figure came from; None when nothing can be assumed."""
    if kv_memory is not None:
        return parse_size(kv_memory), "kv_memory"
    if os.environ.get("CASTLING_KV_MEMORY"):
        return parse_size(os.environ["CASTLING_KV_MEMORY"]), "CASTLING_KV_MEMORY"
    if not _all_local(host):
        return None
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not every platform names them
        return None
    return ram // 2, "half this machine's RAM"


@dataclass(frozen=True)
class WindowChoice:
    """The `num_ctx` to send and why, with a warning when it does not fit in memory."""

    num_ctx: int
    why: str
    warning: str | None = None


def choose_num_ctx(
    model: str,
    wanted: int,
    explicit: bool,
    model_length: int | None,
    values_per_token: int | None,
    budget: tuple[int, str] | None,
    usual: int = 0,
) -> WindowChoice:
    """The window to ask for: `wanted`, within the model's length and, unless it was asked for, what fits.

    Capping a long-context profile's window (Llama 4 Scout's 10M) to what fits is the plan and says nothing; a
    warning comes when an explicit `num_ctx` does not fit, or when the cap falls below `usual` (the profile's
    ordinary window).
    """
    source = "asked for" if explicit else "the profile's"
    num_ctx, why = wanted, f"{source} {wanted:,}"
    if model_length and num_ctx > model_length:
        num_ctx, why = model_length, f"{why}, capped at the model's length {model_length:,}"
    if values_per_token is None or budget is None:
        return WindowChoice(num_ctx, why)
    per_token, (limit, origin) = kv_bytes_per_token(values_per_token), budget
    fits = max(MIN_NUM_CTX, int(limit / per_token) // 1024 * 1024)
    if num_ctx <= fits:
        return WindowChoice(num_ctx, f"{why} (KV cache {_size(num_ctx * per_token)} of {_size(limit)}, {origin})")
    need = f"{num_ctx:,} tokens of {model} need {_size(num_ctx * per_token)} of KV cache"
    if explicit:
        warning = (
            f"num_ctx={num_ctx:,} may not fit in memory: {need}, more than the {_size(limit)} assumed ({origin}). "
            f"Ollama may then run slowly on the CPU or fail to load the model: lower num_ctx (about {fits:,} fits), "
            "or set kv_memory= (or CASTLING_KV_MEMORY) to what the server really has."
        )
        return WindowChoice(num_ctx, f"{why} (does not fit in {_size(limit)}, {origin})", warning)
    capped = f"{why}, capped at {fits:,} by memory ({_size(limit)}, {origin})"
    if fits >= min(usual, num_ctx):
        return WindowChoice(fits, capped)
    warning = (
        f"asking for num_ctx={fits:,} instead of {num_ctx:,}: {need}, more than the {_size(limit)} assumed "
        f"({origin}). Set kv_memory= (or CASTLING_KV_MEMORY) if the server has more, or pass num_ctx= to insist."
    )
    return WindowChoice(fits, capped, warning)


@functools.lru_cache(maxsize=64)  # asked on every request; a host string is parsed once
def _all_local(host: str) -> bool:
    hosts = [urlsplit(h if "://" in h else f"http://{h}").hostname for h in re.split(r"[,\s]+", host) if h]
    return bool(hosts) and all(h in _LOOPBACK for h in hosts)


def _size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GiB"
