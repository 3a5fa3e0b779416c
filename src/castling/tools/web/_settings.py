"""User-facing settings of the web tools."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from castling.tools.web._reader import parse_size


class WebSettings(BaseModel):
    """Limits and address rules shared by `fetch` and `http_request`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = 5 << 20
    """Largest body read, on the wire and after decompression (accepts `"5MiB"`, `"500KB"`)."""
    timeout: float = Field(default=20.0, gt=0)
    """Total deadline in seconds for one call: robots.txt, connect, redirects, the whole body (stops slow drips),
    waiting for a free extraction worker and the extraction itself."""
    connect_timeout: float = Field(default=5.0, gt=0)
    """Deadline for one TCP/TLS connect."""
    read_timeout: float = Field(default=10.0, gt=0)
    """Longest wait for the next bytes from the server."""
    extract_timeout: float = Field(default=10.0, gt=0)
    """Hard wall-clock limit for turning one HTML page or PDF into text (the worker is killed after it); within
    the call's `timeout`, extraction gets at most what is left of it."""
    allow_hosts: tuple[str, ...] = ()
    """Internal hosts the tools may reach: names (`intranet.local`, `*.corp.example`), IPs or networks."""
    ports: tuple[int, ...] | None = (80, 443)
    """Ports allowed for hosts not in `allow_hosts`; None allows any port."""
    max_redirects: int = Field(default=5, ge=0, le=20)
    """Redirects followed per call; each hop is checked again."""
    max_length: int = Field(default=20_000, gt=0)
    """Default number of characters returned per call (the model pages with `start_index`)."""
    user_agent: str = "castling-fetch/0.1 (+https://github.com/castling)"
    """User-Agent header sent with every request."""
    verify_tls: bool = True
    """Verify TLS certificates (keep on)."""
    respect_robots_txt: bool = True
    """Honour the site's robots.txt (default for `fetch`; `http_request` turns it off, robots.txt is for crawlers)."""
    resend_body_cross_origin: bool = False
    """Send a request body on when a 307/308 redirect leads to another origin (scheme, host or port). Off: the
    call stops at the redirect and tells the model where it pointed, so a body meant for one service (card
    numbers, tokens) never reaches another unasked. Headers other than Accept, Accept-Language, Content-Type and
    User-Agent are never sent to another origin."""
    cache_size: int = Field(default=32, ge=0)
    """Converted pages kept per tool so paging does not download again."""

    @field_validator("max_bytes", mode="before")
    @classmethod
    def _parse_size(cls, value: int | str) -> int:
        size = parse_size(value)
        if size <= 0:
            raise ValueError("max_bytes must be positive")
        return size
