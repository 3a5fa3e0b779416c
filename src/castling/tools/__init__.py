"""Built-in tools and tool helpers."""

from castling.tools.web import fetch, http_request  # noqa: F401  (web fetch tools, issue 4)
