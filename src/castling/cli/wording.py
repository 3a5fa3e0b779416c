"""Library error messages as a command-line user should read them: flags, not API arguments."""

from __future__ import annotations

import re

from castling.backbones.servers import API_KEY_ENV

_API_TO_FLAGS = (
    ("OLLAMA_HOST / host=", "OLLAMA_HOST / --host"),
    ("the key it expects with api_key=", f"the key it expects with --api-key KEY or ${API_KEY_ENV}"),
)
_CLASS_PREFIX = re.compile(r"^[A-Z][A-Za-z]+: ")


def for_the_command_line(text: str) -> str:
    """`text` with API arguments (`host=`, `api_key=`) named as the flags that set them, no leading class name."""
    for api, flag in _API_TO_FLAGS:
        text = text.replace(api, flag)
    return _CLASS_PREFIX.sub("", text)
