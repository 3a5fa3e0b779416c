"""What each model family is good at: the profile table behind `castling backbones`.

Kept free of heavy imports so the CLI can print it instantly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Strategy = Literal["tools", "plan"]


class Profile(BaseModel):
    """A model family's defaults and published facts."""

    model_config = ConfigDict(frozen=True)

    family: str
    """Short name used to pick the backbone (`qwen`, `llama`)."""
    flagship: str
    """The family's current flagship release the facts below describe."""
    context_window: str
    """The largest published context window, as the vendor states it."""
    languages: str
    """Languages the vendor claims support for."""
    licence: str
    """Licence of the weights."""
    strengths: str
    """What the family is chosen for."""
    default_strategy: Strategy
    """The agent strategy used unless `Agent(strategy=...)` overrides it."""
    default_num_ctx: int
    """`num_ctx` sent to Ollama unless overridden; capped by the model's own context length."""
    model_prefixes: tuple[str, ...]
    """Model names starting with one of these pick this backbone from a bare model name."""
    thinks: bool = True
    """Whether the family has a thinking mode. A server's word is not enough: OpenAI-compatible servers say nothing
    of it (castling assumes every model thinks there), and `think`/`enable_thinking` means nothing to a family
    without one. When False, thinking is never asked for, on any server."""
    long_context: tuple[tuple[str, int], ...] = ()
    """Long-context models (a part of the model name, their published window): these ask for that window instead
    of `default_num_ctx`, capped by the model's own length and by the memory the KV cache may use. First match wins."""

    def wanted_num_ctx(self, model: str) -> int:
        """The window the profile asks for `model` before any cap."""
        name = model.lower()
        return next((window for part, window in self.long_context if part in name), self.default_num_ctx)


QWEN = Profile(
    family="qwen",
    flagship="Qwen 3.5",
    context_window="128K",
    languages="201 languages",
    licence="Apache-2.0",
    strengths="structured function calling (native tools, parallel calls, thinking)",
    default_strategy="tools",
    default_num_ctx=32768,
    model_prefixes=("qwen", "qwq"),
    long_context=(("qwen3-coder", 262144), ("2507", 262144), ("qwen3.5", 262144)),
)

LLAMA = Profile(
    family="llama",
    flagship="Llama 4",
    context_window="10M (Scout)",
    languages="8 core languages",
    licence="Llama community licence (700M MAU cap)",
    strengths="autonomous planning (plan, execute, re-plan with JSON-schema output)",
    default_strategy="plan",
    default_num_ctx=16384,
    model_prefixes=("llama",),
    thinks=False,  # no Llama release has a thinking mode
    long_context=(("llama4:maverick", 1048576), ("llama4:128x17b", 1048576), ("llama4", 10485760)),
)

PROFILES: dict[str, Profile] = {p.family: p for p in (QWEN, LLAMA)}


def render_table() -> str:
    """The profile table as aligned plain text."""
    header = ("backbone", "flagship", "context", "languages", "licence", "default strategy", "strengths")
    rows = [header] + [
        (p.family, p.flagship, p.context_window, p.languages, p.licence, p.default_strategy, p.strengths)
        for p in PROFILES.values()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
