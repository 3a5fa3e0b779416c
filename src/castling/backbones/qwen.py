"""The Qwen backbone: structured function calling through Ollama's native `tools`."""

from __future__ import annotations

from typing import ClassVar

from castling.backbones.base import BaseBackbone
from castling.backbones.profiles import QWEN, Profile


class Qwen(BaseBackbone):
    """Qwen models (qwen3, qwen3.5, qwen2.5, qwq) with native tool calls and thinking.

    Parallel calls in one reply are run together; calls the model leaves in its text (`<tool_call>` blocks,
    the `<function=...>` XML form, fenced or bare JSON) are recovered.
    """

    profile: ClassVar[Profile] = QWEN
