"""Running the planned specs: `-j` at once, each on the least busy host, each finished run journaled."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import httpx

from castling.scenarios.eval.journal import Journal, RunRecord
from castling.scenarios.eval.plan import RunSpec
from castling.scenarios.eval.web import RecordedWeb
from castling.scenarios.execute import execute
from castling.scenarios.expectations import check_all
from castling.scenarios.format import Outcome
from castling.scenarios.live import live_for
from castling.scenarios.recorder import Capture, RecordingTransport
from castling.scenarios.runner import recorded_scenario, recording_wrapper
from castling.scenarios.store import save

OnDone = Callable[[RunRecord], None]


UNREACHABLE = ("ServerUnreachable", "OllamaUnreachable")
"""The error kinds of a run whose host refused the connection (or could not be reached): the run goes elsewhere."""


class HostLease:
    """Hands each run the host with the fewest eval runs in progress (ties: the first listed), avoiding hosts down.

    A whole run stays on one host, so its later steps reuse the prompt prefix that host has cached. A host that
    could not be reached is marked down: later runs go to the others while any is up, and the run that found it
    down is run again on another one. `None` stands for the default host (OLLAMA_HOST, or the OpenAI default).
    """

    def __init__(self, hosts: Sequence[str | None], *, on_down: Callable[[str | None], None] | None = None) -> None:
        self.hosts = list(hosts) or [None]
        self.busy = [0] * len(self.hosts)
        self.down: set[int] = set()
        self.on_down = on_down
        self._lock = threading.Lock()

    def acquire(self, tried: Collection[int] = ()) -> int | None:
        """The host for a run that has already failed on `tried`; None when every host was tried."""
        with self._lock:
            left = [i for i in range(len(self.hosts)) if i not in tried]
            if not left:
                return None
            up = [i for i in left if i not in self.down] or left  # all down: still try, the error is the answer
            index = min(up, key=lambda i: self.busy[i])
            self.busy[index] += 1
            return index

    def release(self, index: int) -> None:
        with self._lock:
            self.busy[index] -= 1

    def mark_down(self, index: int) -> None:
        with self._lock:
            first = index not in self.down
            self.down.add(index)
        if first and self.on_down is not None:
            self.on_down(self.hosts[index])


def run_all(
    specs: Sequence[RunSpec],
    *,
    hosts: Sequence[str | None],
    jobs: int = 1,
    journal: Journal | None = None,
    record_dir: Path | None = None,
    on_done: OnDone | None = None,
    api_key: str | None = None,
    on_down: Callable[[str | None], None] | None = None,
) -> list[RunRecord]:
    """Run `specs` (`jobs` at once) and return their records in spec order.

    `api_key`: the bearer key for OpenAI-compatible hosts; `on_down`: told once about each host found unreachable.
    """
    lease = HostLease(hosts, on_down=on_down)
    records: dict[str, RunRecord] = {}
    # One connection pool for every run: a fresh transport per run cost ~40 ms (two TLS contexts built from the
    # system CA store) on top of a ~40 ms scripted run, and kept-alive connections are reused.
    network = httpx.HTTPTransport()
    with network, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        pending: dict[Future[RunRecord], RunSpec] = {}
        try:
            for spec in specs:
                pending[pool.submit(_leased, spec, lease, record_dir, network, api_key)] = spec
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    pending.pop(future)
                    record = future.result()
                    records[record.key] = record
                    if journal is not None:
                        journal.append(record)
                    if on_done is not None:
                        on_done(record)
        except BaseException:
            for future in pending:  # Ctrl-C: what finished is journaled; the rest is not started
                future.cancel()
            raise
    return [records[s.key] for s in specs if s.key in records]


def _leased(
    spec: RunSpec,
    lease: HostLease,
    record_dir: Path | None,
    network: httpx.HTTPTransport,
    api_key: str | None = None,
) -> RunRecord:
    """The run on the least busy host that is up; if its host cannot be reached, again on another one."""
    tried: list[int] = []
    record: RunRecord | None = None
    while (index := lease.acquire(tried)) is not None:
        try:
            record = run_one(spec, lease.hosts[index], record_dir, network, api_key)
        finally:
            lease.release(index)
        if record.error_kind not in UNREACHABLE:
            return record
        lease.mark_down(index)
        tried.append(index)
    assert record is not None  # a lease has at least one host
    return record


def run_one(
    spec: RunSpec,
    host: str | None,
    record_dir: Path | None = None,
    network: httpx.HTTPTransport | None = None,
    api_key: str | None = None,
) -> RunRecord:
    """One live run of a spec: the agent against `host`, the expectations checked, optionally recorded.

    `network`: a connection pool shared between runs (else the live source builds its own transport).
    """
    scenario = spec.scenario
    live = live_for(scenario, host)
    capture = Capture() if record_dir is not None else None
    model: Any = SharedNetwork(network) if network is not None else live.model_transport()
    http: Any = RecordedWeb(scenario, spec.folder) if scenario.tool_http else live.http_transport()
    if capture is not None:
        model = RecordingTransport(model, capture, kind="ollama")
        http = RecordingTransport(http, capture, kind="http") if http is not None else recording_wrapper(capture)
    started = time.perf_counter()
    try:
        outcome = execute(scenario, model, http, live.host, api_key=api_key)
    except Exception as exc:  # a bug in a tool or the agent is this run's error, not the eval's end
        outcome = Outcome(error=f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - started
    problems = [f"the run failed: {outcome.error}"] if outcome.error else check_all(scenario.expectations, outcome)
    record = _record(spec, outcome, problems, latency, live.host)
    if capture is not None and record_dir is not None:
        record.recorded = str(_save(spec, capture, outcome, live.source, record_dir))
    return record


class SharedNetwork(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A run's view of the eval's shared pool: closing it (the agent closes its client) leaves the pool open.

    Async requests (rare in a sync run) get a transport of their own, since an async pool belongs to one loop.
    """

    def __init__(self, pool: httpx.HTTPTransport) -> None:
        self.pool = pool
        self._async: httpx.AsyncHTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.pool.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._async is None:
            self._async = httpx.AsyncHTTPTransport()
        return await self._async.handle_async_request(request)

    def close(self) -> None:
        pass  # the pool is the eval's: `run_all` closes it at the end

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()


def _record(spec: RunSpec, outcome: Outcome, problems: list[str], latency: float, host: str) -> RunRecord:
    config = spec.config
    return RunRecord(
        key=spec.key,
        task=spec.task,
        model=config.model,
        backbone=config.backbone,
        strategy=config.strategy,
        repeat=spec.repeat,
        passed=not problems,
        problems=problems,
        error_kind=error_kind(outcome.error),
        prompt_tokens=outcome.prompt_tokens,
        completion_tokens=outcome.completion_tokens,
        model_s=round(outcome.model_ms / 1000, 4),
        latency_s=round(latency, 4),
        tool_calls=len(outcome.tool_calls),
        steps=outcome.steps,
        host=host,
        folder=spec.folder.name,
    )


def error_kind(error: str | None) -> str:
    """`ServerUnreachable` from `ServerUnreachable: cannot reach …`; '' for no error."""
    if not error:
        return ""
    head = error.split(":", 1)[0].strip()
    return head if re.fullmatch(r"[A-Za-z_][\w.]*", head) else "error"


def _save(spec: RunSpec, capture: Capture, outcome: Outcome, source: str, record_dir: Path) -> Path:
    """The run as a scenario file: `DIR/<model>-<backbone>-<strategy>/<task>-<repeat>.yaml` (replays offline)."""
    config = spec.config
    folder = record_dir / _slug(f"{config.model}-{config.backbone}-{config.strategy}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_slug(spec.task)}-{spec.repeat}.yaml"
    fresh = recorded_scenario(spec.scenario, capture, outcome, source, {}, folder)
    fresh = fresh.model_copy(
        update={"id": f"{spec.task}-{_slug(config.model)}-{config.strategy}-{spec.repeat}", "task_id": spec.task}
    )
    save(fresh, path)
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"
