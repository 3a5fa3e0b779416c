"""No network during replay: a process-wide guard refusing non-loopback connects and name lookups.

Castling's own replay transports never open sockets, but a tool that builds its own HTTP client (without the
scenario's transport) would reach the network unnoticed and pass or fail by luck. While `offline(...)` is
active, such a tool fails the scenario instead, before any packet leaves:

- `socket.socket.connect` / `connect_ex` / `sendto` and `socket.getaddrinfo` / `gethostbyname(_ex)` /
  `gethostbyaddr` are wrapped: an AF_INET/AF_INET6 address or a host name that is not loopback raises
  `NetworkBlocked` before the real call is made (so nothing is resolved or sent).
- A `sys.audit` hook (installed once; audit hooks cannot be removed, it does nothing while no guard is
  active) catches code that bypasses the `socket` module (`_socket` directly, sockets from C helpers that go
  through CPython's socket object).

Loopback (127.0.0.0/8, ::1, `localhost`) and non-IP sockets (AF_UNIX, pipes) stay allowed: tests, `castling
serve` and asyncio's self-pipe use them. Subprocesses are not covered by an in-process guard: the sandboxed
Python worker runs in its own empty network namespace (bubblewrap `--unshare-all`), and the fetch extraction
worker talks to the host over pipes only and opens no sockets.

`NetworkBlocked` is a `ScenarioDivergence` (a `BaseException`), so a tool's `except Exception` cannot swallow
it; every refusal is also kept on the guard, and the runner fails the scenario on it after the run.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from castling.scenarios.errors import ScenarioDivergence

_LOCK = threading.RLock()
_ACTIVE: list[OfflineGuard] = []
_SAVED: dict[str, Any] = {}
_HOOKED = False
_LOCAL_NAMES = ("localhost", "localhost.", "ip6-localhost", "ip6-loopback")
_SOCKET_METHODS = ("connect", "connect_ex", "sendto")
_MODULE_FUNCTIONS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr")


class NetworkBlocked(ScenarioDivergence):
    """Something tried to use the network while a scenario was replaying."""

    kind = "network"


class OfflineGuard:
    """One active replay: its name for messages, and the refusals seen while it was active."""

    def __init__(self, scenario_id: str, path: str) -> None:
        self.scenario_id = scenario_id
        self.path = path
        self.blocked: list[NetworkBlocked] = []


@contextlib.contextmanager
def offline(scenario_id: str, path: str = "") -> Iterator[OfflineGuard]:
    """Refuse non-loopback network use in this process while the block runs (nestable, thread-safe)."""
    guard = OfflineGuard(scenario_id, path)
    with _LOCK:
        if not _ACTIVE:
            _patch()
        _ACTIVE.append(guard)
    try:
        yield guard
    finally:
        with _LOCK:
            _ACTIVE.remove(guard)
            if not _ACTIVE:
                _unpatch()


def is_loopback(host: Any) -> bool:
    """True for loopback IP literals and the `localhost` names; False for any other name or address."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False  # a name: resolving it may already be network traffic (DNS)
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _refuse(action: str, target: str) -> None:
    with _LOCK:
        guards = list(_ACTIVE)
    if not guards:
        return
    names = ", ".join(repr(g.scenario_id) for g in guards)
    recording = next((g.path for g in reversed(guards) if g.path), "")
    error = NetworkBlocked(
        f"scenario {names} tried to {action} {target} during replay; replay is offline (no network, only loopback)."
        + (f"\n  recording: {recording}" if recording else "")
        + "\n  A tool (or library) opened its own network connection instead of using the scenario's transport."
        "\n  Pass the scenario's transport to HTTP tools (`fetch(transport=s.http_transport)`), or record this"
        " traffic\n  through it so that replay can serve it.",
        scenario=guards[-1].scenario_id,
    )
    for guard in guards:
        guard.blocked.append(error)
    raise error


def _check_address(family: int, address: Any, action: str) -> None:
    if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple) or not address:
        return  # AF_UNIX paths, netlink, …: not the network
    if not is_loopback(address[0]):
        _refuse(action, f"{address[0]}:{address[1]}" if len(address) > 1 else str(address[0]))


def _check_host(host: Any, action: str) -> None:
    if host is not None and host not in ("", b"") and not is_loopback(host):
        _refuse(action, str(host))


def _method(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(self: socket.socket, *args: Any) -> Any:
        if args:
            _check_address(self.family, args[-1], "connect to" if name != "sendto" else "send to")
        return original(self, *args)

    guarded.__name__ = name
    return guarded


def _function(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        _check_host(host, "resolve")
        return original(host, *args, **kwargs)

    guarded.__name__ = name
    return guarded


def _patch() -> None:
    # Whatever is installed now counts as the original (a test's tripwire, or the real socket functions).
    global _HOOKED
    for name in _SOCKET_METHODS:
        _SAVED["socket." + name] = original = getattr(socket.socket, name)
        setattr(socket.socket, name, _method(name, original))
    for name in _MODULE_FUNCTIONS:
        _SAVED[name] = original = getattr(socket, name)
        setattr(socket, name, _function(name, original))
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED = True


def _unpatch() -> None:
    for name in _SOCKET_METHODS:
        setattr(socket.socket, name, _SAVED.pop("socket." + name))
    for name in _MODULE_FUNCTIONS:
        setattr(socket, name, _SAVED.pop(name))


_AUDITED = {"socket.connect", "socket.sendto", "socket.sendmsg"}
_AUDITED_LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _ACTIVE:
        return
    if event in _AUDITED_LOOKUPS:
        _check_host(args[0], "resolve")
    elif event in _AUDITED and args[-1] is not None:
        _check_address(getattr(args[0], "family", -1), args[-1], "connect to")
