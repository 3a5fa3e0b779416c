"""Replay at the wire: httpx transports that answer from a scenario and never touch the network.

Model turns are served strictly in order, each only after its request matched the recorded one on canonical
JSON (a model named without a tag is its `:latest`); discovery calls (`/api/show`, `/api/tags`, `/api/ps`,
`/api/version`; `/v1/models` on the OpenAI wire) are answered
whenever asked; tool HTTP is matched on method + URL (+ body), first-in first-out among identical requests.
Whichever API the file recorded is served: Ollama's `/api/chat` (NDJSON) or OpenAI's `/v1/chat/completions` (SSE).
"""

from __future__ import annotations

import difflib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx

from castling.backbones.wire import merge_chunks
from castling.scenarios.canonical import canonical
from castling.scenarios.discovery import discovery_response, same_model, scenario_models
from castling.scenarios.errors import (
    ExtraModelCall,
    ScenarioDivergence,
    UnrecordedHttpRequest,
    UnusedRecordings,
    rerecord_command,
    turn_divergence,
)
from castling.scenarios.format import HttpExchange, Scenario, WireResponse
from castling.scenarios.openai_wire import chat_api, error_response, openai_turn_response
from castling.scenarios.store import read_blob


class _Replay(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sync and async entry points over one `respond` method; divergences are kept as well as raised."""

    def __init__(self, scenario: Scenario, path: str | Path) -> None:
        self.scenario = scenario
        self.path = str(path)
        self.divergences: list[ScenarioDivergence] = []
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._guarded(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self._guarded(request)

    def _guarded(self, request: httpx.Request) -> httpx.Response:
        try:
            return self.respond(request)
        except ScenarioDivergence as exc:
            self.divergences.append(exc)
            raise

    def respond(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError


COMMIT = "castling.commit"
"""Response extension of a served turn: call it once the reply was delivered whole, to use the turn up."""


class ModelReplay(_Replay):
    """Answers the Ollama or the OpenAI-compatible API from the scenario's model turns.

    A turn is used up when its request matched; with `commit_on_send=True` (`castling serve`) only when the server
    calls the response's `COMMIT` extension after writing the reply whole, so a request that failed (a divergence,
    a client that hung up mid-stream) leaves the turn for the next try.
    """

    def __init__(self, scenario: Scenario, path: str | Path, *, commit_on_send: bool = False) -> None:
        super().__init__(scenario, path)
        self.next_turn = 0
        self.commit_on_send = commit_on_send

    def respond(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        route = request.url.path
        api = chat_api(route) or ("ollama" if route.endswith("/api/generate") else None)
        if api is None:
            return discovery_response(self.scenario, route, body)
        missing = self._unknown_model(body, route, api)
        return missing if missing is not None else self._chat(body, route, api)

    def _unknown_model(self, body: Any, route: str, api: str) -> httpx.Response | None:
        """404 as the server says it for a model the file does not hold, or a route it did not record."""
        asked = str(body.get("model") or "") if isinstance(body, dict) else ""
        if api == "openai":
            if asked in scenario_models(self.scenario):
                return None
            return error_response(404, f"The model `{asked}` does not exist (replaying {self.scenario.id}).")
        if not any(same_model(asked, m) for m in scenario_models(self.scenario)):
            return httpx.Response(404, json={"error": f"model '{asked}' not found"})
        if not any(t.request.path == route for t in self.scenario.model_turns):
            message = f"{route} is not recorded in scenario {self.scenario.id!r}: it recorded only other routes"
            return httpx.Response(404, json={"error": message})
        return None

    def _chat(self, body: Any, route: str, api: str) -> httpx.Response:
        with self.lock:
            index = self.next_turn
            if not self.commit_on_send:
                self.next_turn += 1
        turns = self.scenario.model_turns
        if index >= len(turns):
            raise ExtraModelCall(
                f"scenario {self.scenario.id!r}: the agent made model call #{index + 1} but only {len(turns)} "
                f"turns were recorded ({self.path}).\n  Likely cause: the agent no longer stops where it did: "
                f"a reply is read differently, or a tool result changed.\n  Re-record: {self._command()}",
                scenario=self.scenario.id,
                turn=index,
            )
        recorded = turns[index]
        matching = self.scenario.matching
        no_system = matching.system_prompt == "ignore"
        expected = canonical(recorded.request.body, matching.ignore_paths, ignore_system=no_system)
        actual = canonical(
            _as_recorded_model(body, recorded.request.body), matching.ignore_paths, ignore_system=no_system
        )
        if expected != actual or recorded.request.path != route:
            raise turn_divergence(
                path=self.path,
                scenario_id=self.scenario.id,
                turn=index,
                total=len(turns),
                recorded={"route": recorded.request.path, **expected} if expected == actual else expected,
                actual={"route": route, **actual} if expected == actual else actual,
                model=self.scenario.agent.model,
                constructed=self.scenario.recording.source == "constructed",
                drift=version_drift(self.scenario.recording.client_versions),
                route=f"POST {route}",
                api=api,
            )
        response = turn_response(recorded.response, streamed=wants_stream(body, api), api=api, route=route)
        if self.commit_on_send:
            response.extensions[COMMIT] = lambda: self._commit(index)
        return response

    def _commit(self, index: int) -> None:
        with self.lock:  # two clients served the same turn at once use it up once
            if self.next_turn == index:
                self.next_turn += 1

    def unused(self) -> list[str]:
        return [f"model turn {t.turn}" for t in self.scenario.model_turns[self.next_turn :]]

    def _command(self) -> str:
        return rerecord_command(self.path, self.scenario.id)


def _as_recorded_model(body: Any, recorded: Any) -> Any:
    """`body` with its model named as the recording names it, when both are one model (`llama3` ↔ `llama3:latest`)."""
    if not (isinstance(body, dict) and isinstance(recorded, dict)):
        return body
    asked, named = str(body.get("model") or ""), str(recorded.get("model") or "")
    return {**body, "model": named} if asked != named and same_model(asked, named) else body


class HttpReplay(_Replay):
    """Answers a tool's HTTP requests from the scenario's `tool_http` section."""

    def __init__(self, scenario: Scenario, path: str | Path) -> None:
        super().__init__(scenario, path)
        self.pending: list[HttpExchange] = list(scenario.tool_http)

    def respond(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode("utf-8", "replace") if request.content else None
        with self.lock:
            for exchange in self.pending:
                if _same_request(exchange, request.method, str(request.url), body):
                    self.pending.remove(exchange)
                    return self._answer(exchange)
        raise self._unrecorded(request.method, str(request.url))

    def _answer(self, exchange: HttpExchange) -> httpx.Response:
        response = exchange.response
        if response.body_file:
            content = read_blob(Path(self.path).parent, response.body_file)
        else:
            content = (response.body or "").encode()
        return httpx.Response(response.status, headers=response.headers, content=content)

    def _unrecorded(self, method: str, url: str) -> UnrecordedHttpRequest:
        recorded = [f"{e.request.method} {e.request.url}" for e in self.scenario.tool_http]
        closest = difflib.get_close_matches(f"{method} {url}", recorded, n=1, cutoff=0.0)
        hint = f"\n  closest recorded request: {closest[0]}" if closest else "\n  (no tool HTTP was recorded)"
        return UnrecordedHttpRequest(
            f"scenario {self.scenario.id!r}: a tool made an HTTP request that is not recorded (or was already "
            f"used): {method} {url}{hint}\n  Replay never goes to the network.\n  Likely cause: the model asked "
            f"for another URL, or the tool builds its requests differently.\n"
            f"  Re-record: {rerecord_command(self.path, self.scenario.id)}",
            scenario=self.scenario.id,
        )

    def unused(self) -> list[str]:
        return [f"tool HTTP {e.id} ({e.request.method} {e.request.url})" for e in self.pending]


def version_drift(recorded: dict[str, str]) -> str:
    """`ollama 0.6.3 → 0.7.0, …` for recorded client versions that differ from the installed ones."""
    import importlib.metadata

    changed = []
    for name, version in sorted(recorded.items()):
        try:
            now = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if now != version and name != "castling":
            changed.append(f"{name} {version} → {now}")
    return ", ".join(changed)


def _same_request(exchange: HttpExchange, method: str, url: str, body: str | None) -> bool:
    recorded = exchange.request
    if recorded.method.upper() != method.upper() or httpx.URL(recorded.url) != httpx.URL(url):
        return False
    return method.upper() in ("GET", "HEAD") or (recorded.body or None) == (body or None)


def unused_error(scenario: Scenario, path: str, unused: list[str]) -> UnusedRecordings:
    """The failure for recordings the run never asked for."""
    listed = ", ".join(unused[:6]) + (" …" if len(unused) > 6 else "")
    return UnusedRecordings(
        f"scenario {scenario.id!r}: the run ended but {len(unused)} recorded exchange(s) were never requested: "
        f"{listed} ({path}).\n  Likely cause: the agent stopped earlier than it did when recorded (a behaviour "
        f"change).\n  Re-record: {rerecord_command(path, scenario.id)}",
        scenario=scenario.id,
    )


# -- responses ---------------------------------------------------------------------------------------------------
def wants_stream(body: Any, api: str) -> bool:
    """Whether the client asked for a stream: Ollama streams unless told not to, OpenAI only when told to."""
    default = api == "ollama"
    return bool(body.get("stream", default)) if isinstance(body, dict) else default


def turn_response(
    response: WireResponse, *, streamed: bool, api: str = "ollama", route: str = "/api/chat"
) -> httpx.Response:
    """The recorded answer, as a stream (NDJSON, or SSE on the OpenAI wire) or one JSON object, as asked."""
    if api == "openai":
        return openai_turn_response(response, streamed=streamed)
    if response.chunks is None:
        return httpx.Response(response.status, json=response.body)
    if response.status != 200:
        return httpx.Response(response.status, json=response.chunks[-1] if response.chunks else {})
    if not streamed:
        merge = merge_generate if route.endswith("/api/generate") else merge_chunks
        return httpx.Response(200, json=merge(response.chunks))
    return httpx.Response(200, headers={"content-type": "application/x-ndjson"}, stream=NdjsonStream(response.chunks))


def merge_generate(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The non-streamed form of a streamed `/api/generate` reply: `response` (and `thinking`) joined."""
    merged = dict(chunks[-1]) if chunks else {}
    merged["response"] = "".join(str(c.get("response") or "") for c in chunks)
    thinking = "".join(str(c.get("thinking") or "") for c in chunks)
    if thinking:
        merged["thinking"] = thinking
    return merged


class NdjsonStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Recorded chunks, one line each, re-emitted with their original boundaries."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self.lines = [json.dumps(c, ensure_ascii=False).encode() + b"\n" for c in chunks]

    def __iter__(self) -> Iterator[bytes]:
        yield from self.lines

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for line in self.lines:
            yield line
