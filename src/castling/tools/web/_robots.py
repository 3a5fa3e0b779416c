"""robots.txt for model-initiated fetches (RFC 9309), fetched through the same guarded client.

Because the robots.txt request goes through `WebClient`, its redirects are checked like any other hop: a
robots.txt that redirects to an internal address cannot be used to reach it.
"""

from __future__ import annotations

import time
from urllib.robotparser import RobotFileParser

import httpx

from castling.tools.web._client import FetchFailed, WebClient
from castling.tools.web._policy import AddressRefused
from castling.tools.web._reader import BodyRefused

ROBOTS_MAX_BYTES = 512 << 10  # RFC 9309 asks crawlers to parse at least 500 KiB
ROBOTS_TTL = 3600.0
AGENT_TOKEN = "castling-fetch"


class RobotsDisallowed(Exception):
    """The site's robots.txt disallows the URL; the message is one line for the model."""


class Robots:
    """Per-origin robots.txt rules, cached for an hour."""

    def __init__(self, client: WebClient, agent: str = AGENT_TOKEN) -> None:
        self._client = client
        self._agent = agent
        self._rules: dict[str, tuple[float, RobotFileParser]] = {}

    async def check(self, url: str, deadline: float | None = None) -> None:
        """Raise `RobotsDisallowed` if the site's robots.txt disallows `url` for us.

        `deadline` (`loop.time()`) bounds reading robots.txt; the calling request's deadline is passed here.
        """
        try:
            parsed = httpx.URL(url.strip())
        except (httpx.InvalidURL, TypeError):
            return  # the request itself will report the bad URL
        if parsed.scheme not in ("http", "https") or not parsed.host:
            return
        origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
        rules = await self._rules_for(origin, deadline)
        if not rules.can_fetch(self._agent, str(parsed)):
            raise RobotsDisallowed(f"{origin}/robots.txt disallows this URL for automated agents")

    async def _rules_for(self, origin: str, deadline: float | None) -> RobotFileParser:
        cached = self._rules.get(origin)
        if cached is not None and time.monotonic() - cached[0] < ROBOTS_TTL:
            return cached[1]
        rules, keep = await self._load(origin, deadline)
        if keep:
            self._rules[origin] = (time.monotonic(), rules)
        return rules

    async def _load(self, origin: str, deadline: float | None) -> tuple[RobotFileParser, bool]:
        """The rules, and whether to cache them (not after a failure such as running out of time)."""
        rules = RobotFileParser()
        url = f"{origin}/robots.txt"
        try:
            fetched = await self._client.request("GET", url, max_bytes=ROBOTS_MAX_BYTES, deadline=deadline)
        except AddressRefused as exc:
            raise AddressRefused(f"{exc} (while reading {origin}/robots.txt)") from exc
        except (FetchFailed, BodyRefused):
            rules.parse([])  # unreachable robots.txt: allow; the page request itself will say what is wrong
            return rules, False
        if fetched.status in (401, 403) or fetched.status >= 500:
            rules.parse(["User-agent: *", "Disallow: /"])  # RFC 9309: unauthorised or server error → disallow all
        elif fetched.status >= 400:
            rules.parse([])  # no robots.txt: allow all
        else:
            rules.parse(fetched.body.decode("utf-8", "replace").splitlines())
        return rules, True
