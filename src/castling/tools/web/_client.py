"""One guarded HTTP exchange: URL checks, manual redirects, total deadline, capped body."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from castling.tools.web._policy import AddressPolicy, AddressRefused
from castling.tools.web._reader import ACCEPT_ENCODING, read_capped
from castling.tools.web._settings import WebSettings

TransportOption = httpx.AsyncBaseTransport | Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None
HopCheck = Callable[[str], Awaitable[None]]
"""Called with each URL (the first and every redirect target) before it is requested; raises to refuse it."""
# Headers that still go to another origin after a redirect; anything else the caller set (API keys, tokens,
# session ids under any name) stays with the origin it was meant for.
CROSS_ORIGIN_HEADERS = frozenset(
    {
        "host",
        "connection",
        "user-agent",
        "accept",
        "accept-language",
        "accept-encoding",
        "content-type",
        "content-length",
        "transfer-encoding",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class FetchFailed(Exception):
    """The request could not complete (timeout, connection error, too many redirects); one line for the model."""


@dataclass
class Fetched:
    """A completed response with its body already read."""

    url: str
    status: int
    reason: str
    content_type: str
    body: bytes
    redirects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the model should know about the exchange (headers kept back, a redirect not followed)."""


class WebClient:
    """An httpx client bound to one event loop, created lazily, sending only what the policy allows."""

    def __init__(
        self, settings: WebSettings, policy: AddressPolicy, make_transport: Callable[[], httpx.AsyncBaseTransport]
    ) -> None:
        self._settings = settings
        self._policy = policy
        self._make_transport = make_transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # Pooled connections belong to the loop that opened them; a new loop needs a new client.
            s = self._settings
            self._client = httpx.AsyncClient(
                transport=self._make_transport(),
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout, pool=s.timeout),
                headers={"User-Agent": s.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
        deadline: float | None = None,
        check_hop: HopCheck | None = None,
    ) -> Fetched:
        """Send a request and follow redirects, each hop re-checked; raise AddressRefused/BodyRefused/FetchFailed.

        Args:
            method: HTTP method.
            url: the URL as the model wrote it.
            json: JSON body.
            headers: extra request headers.
            max_bytes: body cap (default: the settings' `max_bytes`).
            deadline: `loop.time()` by which everything must be done (default: `timeout` seconds from now).
            check_hop: awaited with each URL before it is requested (e.g. robots.txt); may raise to refuse it.
        """
        url = url.strip()
        _refuse_confusing(url)
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise AddressRefused(f"invalid URL: {exc}") from exc
        client = self._get_client()
        client.cookies.clear()  # no state carried from one call to the next
        kwargs: dict[str, Any] = {"headers": headers}
        if json is not None:
            kwargs["json"] = json
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self._settings.timeout
        try:
            async with asyncio.timeout_at(deadline):
                request = client.build_request(method, target, **kwargs)
                return await self._follow(client, request, max_bytes or self._settings.max_bytes, check_hop)
        except TimeoutError as exc:
            raise FetchFailed(f"no complete response within the {self._settings.timeout:g} s limit") from exc
        except httpx.TimeoutException as exc:
            raise FetchFailed(f"timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc

    async def _follow(
        self, client: httpx.AsyncClient, request: httpx.Request, max_bytes: int, check_hop: HopCheck | None
    ) -> Fetched:
        redirects: list[str] = []
        notes: list[str] = []
        while True:
            self._policy.check_url(request.url)
            if check_hop is not None:
                await check_hop(str(request.url))
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                next_request = response.next_request
                if next_request is not None and _origin(next_request.url) != _origin(request.url):
                    next_request = self._to_other_origin(request, next_request, response.status_code, notes)
                if next_request is None:
                    return Fetched(
                        url=str(request.url),
                        status=response.status_code,
                        reason=response.reason_phrase,
                        content_type=response.headers.get("content-type", ""),
                        body=await read_capped(response, max_bytes),
                        redirects=redirects,
                        notes=notes,
                    )
                if len(redirects) >= self._settings.max_redirects:
                    raise FetchFailed(f"more than {self._settings.max_redirects} redirects; stopped at {request.url}")
                redirects.append(str(request.url))
                request = next_request
            finally:
                await response.aclose()

    def _to_other_origin(
        self, request: httpx.Request, next_request: httpx.Request, status: int, notes: list[str]
    ) -> httpx.Request | None:
        """The redirect to another origin without the caller's other headers, or None to stop at the redirect.

        A body (307/308 keep it) is sent on only when the tool was built with `resend_body_cross_origin=True`;
        otherwise the redirect itself is the answer, with a note, rather than a silent switch to GET.
        """
        target = next_request.url
        if _has_body(next_request) and not self._settings.resend_body_cross_origin:
            notes.append(
                f"the server redirected this {request.method} ({status}) to another origin, {target}; the request "
                f"body was not sent there. To send it there, call again with that URL."
            )
            return None
        kept_back = sorted({name.lower() for name in request.headers} - CROSS_ORIGIN_HEADERS)
        for name in list(next_request.headers):
            if name.lower() not in CROSS_ORIGIN_HEADERS:
                del next_request.headers[name]
        if kept_back:
            notes.append(f"headers not sent to the other origin {_origin_text(target)}: {', '.join(kept_back)}")
        return next_request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _origin_text(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def _has_body(request: httpx.Request) -> bool:
    # httpx drops the body (and these headers) when a redirect changes the method to GET.
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length != "0")


def _refuse_confusing(url: str) -> None:
    # Parsers disagree on backslashes and whitespace in the authority (`http://127.0.0.1:80\@public.test/`);
    # refusing them is simpler than deciding which reading is right.
    if any(c in url for c in "\\\t\r\n ") or any(ord(c) < 0x20 for c in url):
        raise AddressRefused("URLs containing backslashes, spaces or control characters are refused")
