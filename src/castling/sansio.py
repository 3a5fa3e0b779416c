"""One body for a method and its async twin: a generator that yields the I/O it needs and gets the result back.

A flow is a generator that does the logic of a call (requests, retries, error translation) and, wherever it must
wait on the outside world, yields `io(sync_callable, async_callable, *args)`; the answer is sent back in, and a
failure is thrown back in at the same `yield`, so the flow's `try`/`except`/`finally` read as if it had made the
call itself. `run` drives a flow with the sync callables, `arun` awaits the async ones: the sync path stays all
sync (no event loop, no thread), so contextvars, stream writers and Ctrl-C behave exactly as in a plain method.
httpx's `Auth.auth_flow` is the same pattern. A step costs one generator resume (well under a microsecond).

    def _show(self, model: str) -> Flow[ModelInfo]:
        response = yield from io(self._get, self._aget, f"/models/{model}")
        return parse(response)

    def show(self, model: str) -> ModelInfo:
        return run(self._show(model))

    async def ashow(self, model: str) -> ModelInfo:
        return await arun(self._show(model))
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Io:
    """One wait on the outside world, in both colours: the driver calls the one its mode uses."""

    sync: Callable[..., Any]
    asynchronous: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


Flow = Generator[Io, Any, R]
"""A generator that yields `Io` steps and returns an `R`."""


def io(sync: Callable[P, R], asynchronous: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> Flow[R]:
    """One I/O step, for `yield from`: evaluates to its result, or raises its exception there.

    Under `run` it is `sync(*args, **kwargs)`, under `arun` the awaited `asynchronous(*args, **kwargs)`.
    """
    result: R = yield Io(sync, asynchronous, args, kwargs)
    return result


def run(flow: Flow[R]) -> R:
    """Drive `flow` with the sync side of each step."""
    try:
        step = next(flow)
        while True:
            try:
                result = step.sync(*step.args, **step.kwargs)
            except BaseException as exc:  # Ctrl-C too: the flow's `finally` must see it where the call was
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def arun(flow: Flow[R]) -> R:
    """Drive `flow` with the async side of each step."""
    try:
        step = next(flow)
        while True:
            try:
                result = await step.asynchronous(*step.args, **step.kwargs)
            except BaseException as exc:  # cancellation too
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def both(flow: Callable[P, Flow[R]]) -> tuple[Callable[P, R], Callable[P, Awaitable[R]]]:
    """The sync and the async function that drive `flow`, with its signature (LangGraph reads a node's)."""

    @functools.wraps(flow)
    def sync(*args: P.args, **kwargs: P.kwargs) -> R:
        return run(flow(*args, **kwargs))

    @functools.wraps(flow)
    async def asynchronous(*args: P.args, **kwargs: P.kwargs) -> R:
        return await arun(flow(*args, **kwargs))

    return sync, asynchronous
