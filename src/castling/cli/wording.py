"""Library error messages as a command-line user should read them: flags, not API arguments."""

from __future__ import annotations

import re

_API_TO_FLAGS = (("OLLAMA_HOST / host=", "OLLAMA_HOST / --host"),)
_CLASS_PREFIX = re.compile(r"^[A-Z][A-Za-z]+: ")


def for_the_command_line(text: str) -> str:
    """`text` with API arguments (`host=`) named as the flags that set them, and no leading exception class name."""
    for api, flag in _API_TO_FLAGS:
        text = text.replace(api, flag)
    return _CLASS_PREFIX.sub("", text)
