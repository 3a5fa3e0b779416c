"""Token and time accounting from Ollama's response metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NS = 1e-9


@dataclass(frozen=True)
class Usage:
    """Tokens and model time of one or more model calls, as Ollama reported them."""

    prompt_tokens: int = 0
    """Tokens of prompt evaluated (`prompt_eval_count`)."""
    completion_tokens: int = 0
    """Tokens generated (`eval_count`)."""
    total_seconds: float = 0.0
    """Server-side wall time of the calls (`total_duration`), load time included."""
    load_seconds: float = 0.0
    """Time spent loading the model (`load_duration`)."""
    prompt_seconds: float = 0.0
    """Time spent evaluating the prompt (`prompt_eval_duration`)."""
    completion_seconds: float = 0.0
    """Time spent generating (`eval_duration`)."""
    calls: int = 0
    """Number of model calls summed here."""
    peak_prompt_tokens: int = 0
    """The largest prompt of the calls summed here: how close the run came to the window."""
    context_window: int = 0
    """The largest context window the calls used (`num_ctx` sent, or the model's length); 0 when unknown."""

    @classmethod
    def from_metrics(cls, metrics: Mapping[str, Any]) -> Usage:
        """Read Ollama's final-chunk metrics (absent ones count as zero; durations are nanoseconds)."""
        return cls(
            prompt_tokens=int(metrics.get("prompt_eval_count") or 0),
            completion_tokens=int(metrics.get("eval_count") or 0),
            total_seconds=(metrics.get("total_duration") or 0) * _NS,
            load_seconds=(metrics.get("load_duration") or 0) * _NS,
            prompt_seconds=(metrics.get("prompt_eval_duration") or 0) * _NS,
            completion_seconds=(metrics.get("eval_duration") or 0) * _NS,
            calls=1,
            peak_prompt_tokens=int(metrics.get("prompt_eval_count") or 0),
        )

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def tokens_per_second(self) -> float:
        """Generation speed, or 0.0 when the server reported no generation time."""
        return self.completion_tokens / self.completion_seconds if self.completion_seconds else 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_seconds + other.total_seconds,
            self.load_seconds + other.load_seconds,
            self.prompt_seconds + other.prompt_seconds,
            self.completion_seconds + other.completion_seconds,
            self.calls + other.calls,
            max(self.peak_prompt_tokens, other.peak_prompt_tokens),
            max(self.context_window, other.context_window),
        )
