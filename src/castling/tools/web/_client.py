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
        while True:
            self._policy.check_url(request.url)
            if check_hop is not None:
                await check_hop(str(request.url))
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is None:
                    body = await read_capped(response, max_bytes)
                    return Fetched(
                        url=str(request.url),
                        status=response.status_code,
                        reason=response.reason_phrase,
                        content_type=response.headers.get("content-type", ""),
                        body=body,
                        redirects=redirects,
                    )
                if len(redirects) >= self._settings.max_redirects:
                    raise FetchFailed(f"more than {self._settings.max_redirects} redirects; stopped at {request.url}")
                redirects.append(str(request.url))
                request = response.next_request
            finally:
                await response.aclose()


def _refuse_confusing(url: str) -> None:
    # Parsers disagree on backslashes and whitespace in the authority (`http://127.0.0.1:80\@public.test/`);
    # refusing them is simpler than deciding which reading is right.
    if any(c in url for c in "\\\t\r\n ") or any(ord(c) < 0x20 for c in url):
        raise AddressRefused("URLs containing backslashes, spaces or control characters are refused")
