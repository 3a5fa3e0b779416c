"""What a pool knows of each host: requests in flight, back-off, models it lacks, and which failures move on.

A failure before the server sent any of the reply (refused, 5xx, dropped before the first chunk, connect timeout)
backs the host off for `retry_after` seconds and the request may go to another host; a host's 404 for a model keeps
that model's requests away from it for as long. Anything else, a stream broken mid-way above all, is raised:
the model may already have acted on part of it. `exhausted` is the error when no host is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from castling.backbones.server import ModelServer
from castling.errors import (
    ModelNotFound,
    ModelStreamError,
    ModelTimeout,
    OllamaError,
    OllamaResponseError,
    OllamaUnreachable,
)

RETRY_AFTER = 5.0
"""Seconds a failed host is passed over before it is tried again."""


class PoolUnavailable(OllamaUnreachable):
    """Every host of a pool failed before answering; `failures` lists `(host, what it said)` in the order tried."""

    def __init__(self, message: str, *, host: str = "", model: str = "", failures: Sequence[tuple[str, str]] = ()):
        super().__init__(message, host=host, model=model)
        self.failures = tuple(failures)


@dataclass(frozen=True)
class HostHealth:
    """What the pool knows of one host now."""

    host: str
    in_flight: int
    down_for: float
    """Seconds before the host is tried again (0 when it is up)."""
    failures: int
    """Failures before the first byte so far."""
    last_error: str


@dataclass
class Member:
    """One host of a pool and its state (changed only under the pool's lock)."""

    index: int
    server: ModelServer
    in_flight: int = 0
    down_until: float = float("-inf")
    failures: int = 0
    last_error: str = ""
    missing: dict[str, float] = field(default_factory=dict)
    """Models this host answered 404 for, and until when requests for them go elsewhere."""

    def health(self, now: float) -> HostHealth:
        down_for = max(0.0, self.down_until - now)
        return HostHealth(self.server.host, self.in_flight, down_for, self.failures, self.last_error)

    def note_failure(self, exc: OllamaError, model: str, until: float) -> None:
        """Keep `model` (on a 404) or every request (before the first byte) away until `until`; else re-raise."""
        if isinstance(exc, ModelNotFound):
            self.missing[model] = until
        elif before_first_byte(exc):
            self.down_until = until
            self.failures += 1
            self.last_error = str(exc)
        else:
            raise exc


Failures = list[tuple[Member, OllamaError]]
"""The hosts tried for one request and what each said, in order."""


def before_first_byte(exc: OllamaError) -> bool:
    """True for failures that happened before the server sent any of the reply: safe to send elsewhere."""
    if isinstance(exc, ModelStreamError):
        return False
    if isinstance(exc, OllamaUnreachable):
        return True
    if isinstance(exc, ModelTimeout):
        return isinstance(exc.__cause__, httpx.ConnectTimeout)  # a slow model must not be loaded twice
    if isinstance(exc, OllamaResponseError):
        return exc.status_code >= 500 or isinstance(exc.__cause__, httpx.TransportError)
    return False


def exhausted(pool_hosts: str, total: int, model: str, failures: Sequence[tuple[Member, OllamaError]]) -> OllamaError:
    """The error when no host could serve: `ModelNotFound` if none has the model, else `PoolUnavailable`."""
    if all(isinstance(exc, ModelNotFound) for _, exc in failures) and model:
        installed = sorted({name for _, exc in failures for name in getattr(exc, "installed", ())})
        return ModelNotFound(
            f"Model {model!r} is on none of the pool's hosts ({pool_hosts}): pull it on at least one "
            f"(`ollama pull {model}`). Models on the hosts: {', '.join(installed) or 'none'}.",
            host=pool_hosts,
            model=model,
            installed=installed,
        )
    lines = "".join(f"\n  - {member.server.host}: {exc}" for member, exc in failures)
    return PoolUnavailable(
        f"No host of the pool could serve {model or 'the request'!r}; tried {len(failures)} of "
        f"{total}:{lines}\nStart or fix at least one of them, or remove the dead ones from host=.",
        host=pool_hosts,
        model=model,
        failures=[(member.server.host, str(exc)) for member, exc in failures],
    )
