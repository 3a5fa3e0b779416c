"""SSRF-safe web tools: `fetch` (read pages) and `http_request` (call JSON APIs)."""

from castling.tools.web._address import classify, parse_ip_literal
from castling.tools.web._extract import Extracted
from castling.tools.web._extractor import ExtractorPool, InProcessExtractor, ProcessExtractor
from castling.tools.web._policy import AddressPolicy, AddressRefused
from castling.tools.web._resolver import Resolver, StaticResolver, SystemResolver
from castling.tools.web._settings import WebSettings
from castling.tools.web._transport import PinnedBackend, PinnedTransport
from castling.tools.web.tools import FetchTool, HttpRequestTool, fetch, http_request

__all__ = [
    "AddressPolicy",
    "AddressRefused",
    "Extracted",
    "ExtractorPool",
    "FetchTool",
    "HttpRequestTool",
    "InProcessExtractor",
    "PinnedBackend",
    "PinnedTransport",
    "ProcessExtractor",
    "Resolver",
    "StaticResolver",
    "SystemResolver",
    "WebSettings",
    "classify",
    "fetch",
    "http_request",
    "parse_ip_literal",
]
