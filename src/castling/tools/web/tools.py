"""The `fetch` and `http_request` tools (langchain-core BaseTools; `_arun` is the real path)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import httpcore
import httpx
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from castling.errors import ConfigError
from castling.tools.web._client import Fetched, FetchFailed, TransportOption, WebClient
from castling.tools.web._convert import Unsupported, convert
from castling.tools.web._extractor import ExtractionFailed, Extractor, shared_extractor
from castling.tools.web._policy import AddressPolicy, AddressRefused
from castling.tools.web._reader import BodyRefused
from castling.tools.web._render import Page, PageCache, render
from castling.tools.web._resolver import Resolver
from castling.tools.web._robots import Robots, RobotsDisallowed
from castling.tools.web._sanitize import one_line
from castling.tools.web._settings import WebSettings
from castling.tools.web._transport import PinnedTransport

logger = logging.getLogger(__name__)
MAX_LENGTH_CAP = 100_000
# Extraction runs in a thread: it stops this much before the call's deadline so that its own, more precise
# failure ("no extraction worker became free", "extraction took longer than ...") normally reaches the model
# before the call's deadline cancels the wait.
_RETURN_MARGIN = 0.05
_FORBIDDEN_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "accept-encoding", "cookie", "te", "upgrade"}
)


class _Web:
    """Everything one tool instance needs to make guarded requests and convert their bodies."""

    def __init__(
        self,
        settings: WebSettings,
        *,
        transport: TransportOption,
        resolver: Resolver | None,
        network_backend: httpcore.AsyncNetworkBackend | None,
        extractor: Extractor | None,
    ) -> None:
        self.settings = settings
        self.policy = AddressPolicy.build(settings.allow_hosts, settings.ports)

        def make_transport() -> httpx.AsyncBaseTransport:
            if isinstance(transport, httpx.AsyncBaseTransport):
                return transport
            pinned = PinnedTransport(self.policy, resolver, network_backend=network_backend, verify=settings.verify_tls)
            return transport(pinned) if transport is not None else pinned

        self.client = WebClient(settings, self.policy, make_transport)
        self.extractor = extractor or shared_extractor()
        self.cache = PageCache(settings.cache_size)
        self.robots = Robots(self.client) if settings.respect_robots_txt else None

    async def load(self, method: str, url: str, body: Any, headers: dict[str, str] | None) -> tuple[Page, Fetched]:
        """Download (robots.txt checked on every hop) and convert, all within the one `timeout` deadline."""
        s = self.settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + s.timeout
        fetched: Fetched | None = None
        try:
            async with asyncio.timeout_at(deadline):
                check = self._robots_check(deadline) if self.robots is not None else None
                fetched = await self.client.request(
                    method, url, json=body, headers=headers, deadline=deadline, check_hop=check
                )
                # Extraction gets what is left of the call's deadline, at most `extract_timeout`; waiting for a
                # free extraction worker counts against it.
                budget = min(s.extract_timeout, deadline - loop.time() - _RETURN_MARGIN)
                converted = await convert(fetched.body, fetched.content_type, fetched.url, self.extractor, budget)
        except TimeoutError as exc:
            if fetched is None:
                raise FetchFailed(f"no complete response within the {s.timeout:g} s limit") from exc
            raise FetchFailed(f"extraction did not finish within the {s.timeout:g} s limit of the call") from exc
        page = Page(
            fetched.url,
            fetched.status,
            fetched.reason,
            fetched.content_type,
            converted.title,
            converted.text,
            "; ".join(note for note in (*fetched.notes, converted.note) if note),
        )
        return page, fetched

    def _robots_check(self, deadline: float) -> Callable[[str], Awaitable[None]]:
        robots = self.robots
        assert robots is not None
        hops = 0

        async def check(url: str) -> None:
            nonlocal hops
            hops += 1
            try:
                await robots.check(url, deadline)
            except RobotsDisallowed as exc:
                if hops == 1:
                    raise
                raise RobotsDisallowed(f"{exc} (the redirect target {url})") from exc

        return check

    async def run(self, tool: str, method: str, url: str, start_index: int, max_length: int | None, **kw: Any) -> str:
        """Fetch (or take from the paging cache), convert, render; every failure becomes one line of text."""
        length = min(max_length or self.settings.max_length, MAX_LENGTH_CAP)
        key = json.dumps([method, url, kw.get("body"), kw.get("headers")], sort_keys=True, default=str)
        page = self.cache.get(key) if start_index > 0 else None
        redirected_from = ""
        if page is None:
            try:
                page, fetched = await self.load(method, url, kw.get("body"), kw.get("headers"))
            except (AddressRefused, BodyRefused, Unsupported, RobotsDisallowed) as exc:
                return f"{tool} refused: {one_line(str(exc))}"  # messages may quote server-controlled text
            except (FetchFailed, ExtractionFailed) as exc:
                return f"{tool} failed: {one_line(str(exc))}"
            except Exception as exc:  # the model gets a line of text, never a traceback; the log gets the rest
                logger.exception("%s of %s failed unexpectedly", tool, url)
                return f"{tool} failed: {one_line(f'{type(exc).__name__}: {exc}', 300)}"
            redirected_from = fetched.redirects[0] if fetched.redirects else ""
            if method == "GET":
                self.cache.put(key, page)
        return render(page, start_index, length, redirected_from=redirected_from)


class _WebTool(BaseTool):
    """Shared plumbing: settings, the private `_Web`, sync wrapper and close."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    settings: WebSettings = WebSettings()
    _web: _Web = PrivateAttr()

    def _run(self, *args: Any, **kwargs: Any) -> str:
        kwargs.pop("run_manager", None)
        coro: Any = self._arun(*args, **kwargs)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return str(asyncio.run(coro))
        # Called synchronously from inside a running loop: run ours in a worker thread.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            return str(pool.submit(asyncio.run, coro).result())

    async def aclose(self) -> None:
        """Close the HTTP connection pool (called by the runtime at the end of a session)."""
        await self._web.client.aclose()


class FetchArgs(BaseModel):
    """Arguments the model passes to `fetch`."""

    url: str = Field(description="The http:// or https:// URL to read.")
    start_index: int = Field(0, ge=0, description="Character offset to start at; use it to read further into a page.")
    max_length: int | None = Field(None, gt=0, description="Maximum number of characters to return.")


class FetchTool(_WebTool):
    """Read a web page as markdown (HTML main content), pretty JSON, plain text or PDF text."""

    name: str = "fetch"
    description: str = (
        "Fetch a URL from the internet and return its main content as markdown (HTML), pretty-printed JSON, plain "
        "text or PDF text, with the final URL, status and content type. Long content is cut; call again with "
        "start_index to read further. Internal and private network addresses are refused."
    )
    args_schema: type[BaseModel] = FetchArgs

    async def _arun(self, url: str, start_index: int = 0, max_length: int | None = None, **_: Any) -> str:
        return await self._web.run("fetch", "GET", url, start_index, max_length)


class HttpRequestArgs(BaseModel):
    """Arguments the model passes to `http_request`."""

    url: str = Field(description="The http:// or https:// URL of the API endpoint.")
    method: Literal["GET", "POST"] = Field("GET", description="HTTP method.")
    body: dict[str, Any] | list[Any] | None = Field(None, description="JSON body to send (POST).")
    headers: dict[str, str] | None = Field(None, description="Extra request headers, e.g. Accept.")
    start_index: int = Field(0, ge=0, description="Character offset to start at in a long response.")
    max_length: int | None = Field(None, gt=0, description="Maximum number of characters to return.")


class HttpRequestTool(_WebTool):
    """Call a JSON HTTP API (GET or POST) under the same address rules as `fetch`."""

    name: str = "http_request"
    description: str = (
        "Call an HTTP JSON API with GET or POST (optional JSON body and headers). Returns the status, content type "
        "and the response body (JSON pretty-printed). Internal and private network addresses are refused."
    )
    args_schema: type[BaseModel] = HttpRequestArgs

    async def _arun(
        self,
        url: str,
        method: str = "GET",
        body: dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
        start_index: int = 0,
        max_length: int | None = None,
        **_: Any,
    ) -> str:
        bad = sorted(h for h in headers or {} if h.lower() in _FORBIDDEN_HEADERS or h.lower().startswith("proxy-"))
        if bad:
            return f"http_request refused: these headers cannot be set: {', '.join(bad)}"
        if method == "GET" and body is not None:
            return "http_request refused: a GET request cannot have a body; use POST"
        return await self._web.run("http_request", method, url, start_index, max_length, body=body, headers=headers)


def _build(
    cls: type[FetchTool] | type[HttpRequestTool],
    transport: TransportOption,
    resolver: Resolver | None,
    network_backend: httpcore.AsyncNetworkBackend | None,
    extractor: Extractor | None,
    settings: dict[str, Any],
) -> Any:
    if importlib.util.find_spec("trafilatura") is None:
        raise ConfigError("the web tools need the 'web' extra: pip install 'castling[web]'")
    config = WebSettings(**settings)
    tool = cls(settings=config)
    tool._web = _Web(
        config, transport=transport, resolver=resolver, network_backend=network_backend, extractor=extractor
    )
    return tool


def fetch(
    *,
    transport: httpx.AsyncBaseTransport | Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
    resolver: Resolver | None = None,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
    extractor: Extractor | None = None,
    **settings: Any,
) -> FetchTool:
    """Create the `fetch` tool: read web pages safely.

    Args:
        transport: an httpx transport that replaces the network (replay), or a function that wraps the
            address-pinning transport (record): `transport=lambda inner: Recorder(inner)`.
        resolver: how host names resolve (default: the system resolver); see `StaticResolver`.
        network_backend: the httpcore backend that opens sockets to checked addresses (default: anyio).
        extractor: where HTML/PDF extraction runs (default: a shared worker process with a hard deadline).
        **settings: any `WebSettings` field, e.g. `max_bytes="5MiB"`, `timeout=20`, `allow_hosts=["intranet.local"]`.
    """
    result: FetchTool = _build(FetchTool, transport, resolver, network_backend, extractor, settings)
    return result


def http_request(
    *,
    transport: httpx.AsyncBaseTransport | Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
    resolver: Resolver | None = None,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
    extractor: Extractor | None = None,
    **settings: Any,
) -> HttpRequestTool:
    """Create the `http_request` tool: GET/POST JSON APIs under the same rules as `fetch` (same arguments).

    robots.txt is not consulted unless `respect_robots_txt=True` (it addresses crawlers, not API clients).
    On a redirect to another origin (scheme, host or port) only Accept, Accept-Language, Content-Type and
    User-Agent go on, and a 307/308 that would resend the body stops at the redirect with a note to the model
    unless the tool was built with `resend_body_cross_origin=True`.
    """
    settings.setdefault("respect_robots_txt", False)
    result: HttpRequestTool = _build(HttpRequestTool, transport, resolver, network_backend, extractor, settings)
    return result
