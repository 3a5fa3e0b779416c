"""SSRF-safe web tools: `fetch` (read pages) and `http_request` (call JSON APIs).

The public names are the tools, their settings and the injection points (an address policy, a resolver, an
extractor pool); the rest (address classification, the pinned transport, the extractor processes) is internal
and importable from its private module for tests.
"""

from castling.tools.web._extractor import ExtractorPool
from castling.tools.web._policy import AddressPolicy, AddressRefused
from castling.tools.web._resolver import Resolver, StaticResolver
from castling.tools.web._settings import WebSettings
from castling.tools.web.tools import FetchTool, HttpRequestTool, fetch, http_request

__all__ = [
    "AddressPolicy",
    "AddressRefused",
    "ExtractorPool",
    "FetchTool",
    "HttpRequestTool",
    "Resolver",
    "StaticResolver",
    "WebSettings",
    "fetch",
    "http_request",
]
