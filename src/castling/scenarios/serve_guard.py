"""What `castling serve` checks before it answers anything: who may ask, how big a request may be, how many at once.

- DNS rebinding: a web page can make the browser resolve its own name to 127.0.0.1 and then talk to a loopback
  server as if same-origin. Such requests carry the page's name in `Host` (and `Origin`), so both must name the
  machine itself: `localhost`, `127.0.0.1`, `[::1]` or the bound address (with `--allow-remote` on a wildcard
  address, any IP literal: a rebinding needs a DNS name). Refused with 403.
- Bodies over `MAX_BODY` are refused (413) from their `Content-Length`, before any of them is read (a chunked
  body as soon as its chunks add up to more).
- At most `MAX_CONNECTIONS` connections are served at once; more are answered 503 at once and closed, and a
  connection that stays silent for `IDLE_TIMEOUT` seconds is dropped.
- A client hanging up mid-answer is not an error of the server: nothing is printed for it.

The check runs in one place before any route is dispatched (`TransportServer`'s handler), so new routes inherit it.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MAX_BODY = 8 * 1024 * 1024
MAX_CONNECTIONS = 32
IDLE_TIMEOUT = 30.0
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


@dataclass(frozen=True)
class Refusal:
    """An HTTP error answered instead of the request, with a message that says what to do."""

    status: int
    message: str


def bind_address(host: str) -> str:
    """`--bind` as the socket wants it: `[::1]` → `::1`."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or address) only listens to this machine."""
    host = bind_address(host).lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RequestGuard:
    """Checks the headers of each request before it is read further or answered."""

    def __init__(self, bound: str, *, allow_remote: bool = False, max_body: int = MAX_BODY) -> None:
        self.bound = bind_address(bound).lower()
        self.any_ip = allow_remote and self.bound in WILDCARDS
        self.max_body = max_body

    def check(self, headers: Message | Mapping[str, str]) -> Refusal | None:
        """None if the request may go on, else why not."""
        host = headers.get("host")
        if host is not None and not self._allowed(_hostname(f"//{host}")):
            return Refusal(403, f"castling serve answers requests for this machine only, not for Host {host!r}{_WHY}")
        origin = headers.get("origin")
        if origin is not None and not self._allowed(_hostname(origin)):
            return Refusal(403, f"castling serve answers pages of this machine only, not Origin {origin!r}{_WHY}")
        return self._body_check(headers)

    def _body_check(self, headers: Message | Mapping[str, str]) -> Refusal | None:
        if "chunked" in (headers.get("transfer-encoding") or "").lower():
            return None  # its size is checked while it is read (`serve_http.read_body`)
        length = (headers.get("content-length") or "0").strip()
        if not length.isdigit():
            return Refusal(400, f"Content-Length must be a number of bytes, not {length!r}")
        if int(length) > self.max_body:
            return Refusal(
                413, f"the request body of {int(length)} bytes is over castling serve's limit of {self.max_body} bytes"
            )
        return None

    def _allowed(self, name: str | None) -> bool:
        if name is None:
            return False
        if name in LOOPBACK_NAMES or name == self.bound:
            return True
        if not self.any_ip:
            return False
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


_WHY = " (a web page may be trying to reach it through DNS rebinding); connect to localhost or 127.0.0.1 instead"


def _hostname(url: str) -> str | None:
    """The lower-case host of a URL or `//host:port` (brackets removed), None if it has none or is malformed."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


class GuardedHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server with a bound on open connections and no tracebacks for clients that hang up."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, *, max_connections: int = MAX_CONNECTIONS) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.slots = threading.BoundedSemaphore(max_connections)
        self.max_connections = max_connections
        self._open = 0
        self._count = threading.Lock()
        super().__init__(address, handler)

    @property
    def open_connections(self) -> int:
        """Connections being served right now."""
        return self._open

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self._refuse_busy(request)
            return
        self._counted(+1)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line for a failed request; nothing for a client that went away (it stopped reading: fine)."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        print(f"castling serve: a request failed: {type(error).__name__}: {error}", file=sys.stderr)

    def _release(self) -> None:
        self._counted(-1)
        self.slots.release()

    def _counted(self, step: int) -> None:
        with self._count:
            self._open += step

    def _refuse_busy(self, request: socket.socket) -> None:
        message = f"castling serve is busy: {self.max_connections} connections are open already; try again shortly"
        try:
            request.settimeout(1.0)
            request.sendall(raw_response(503, message))
        except OSError:
            pass
        end_early(request)  # in the accepting thread: takes only what has arrived, never waits
        request.close()


def raw_response(status: int, message: str) -> bytes:
    """A whole HTTP/1.0 JSON error response, as Ollama words errors: `{"error": message}`."""
    body = json.dumps({"error": message}).encode()
    head = f"HTTP/1.0 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


_REASONS = {400: "Bad Request", 403: "Forbidden", 411: "Length Required", 413: "Content Too Large", 503: "Busy"}


def end_early(sock: socket.socket, *, wait: float = 0.0, limit: int = 1 << 20) -> None:
    """After an early answer: end our side, then discard what the client already sent; the caller closes the socket.

    At most `limit` bytes are discarded, for at most `wait` seconds (0: only what has arrived). Closing a socket
    with unread input makes the kernel reset the connection, and the client may then lose the answer it was about
    to read.
    """
    deadline = time.monotonic() + wait
    try:
        sock.shutdown(socket.SHUT_WR)
        discarded = 0
        while discarded < limit:
            left = deadline - time.monotonic()
            sock.settimeout(left) if left > 0 else sock.setblocking(False)
            chunk = sock.recv(65536)
            if not chunk:
                break
            discarded += len(chunk)
    except OSError:  # nothing more to read now (or the client is gone)
        pass
