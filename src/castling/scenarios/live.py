"""Where recording and live runs get their answers: a real model server, or a scenario's own constructed traffic."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

import httpx

from castling.backbones.ollama import resolve_host
from castling.scenarios.discovery import discovery_response
from castling.scenarios.format import Scenario
from castling.scenarios.openai_wire import chat_api
from castling.scenarios.replayer import turn_response, wants_stream
from castling.scenarios.store import read_blob

AnyTransport = httpx.BaseTransport | httpx.AsyncBaseTransport


class LiveSource(Protocol):
    """Gives the transports a recording or live run talks through."""

    host: str
    source: str
    """`live` when a real model answers, `constructed` for scripted traffic."""

    def model_transport(self) -> AnyTransport: ...

    def http_transport(self) -> AnyTransport | None: ...


class NetworkTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Real HTTP for both sync and async clients."""

    def __init__(self) -> None:
        self.sync = httpx.HTTPTransport()
        self.async_ = httpx.AsyncHTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.async_.handle_async_request(request)

    def close(self) -> None:
        self.sync.close()

    async def aclose(self) -> None:
        await self.async_.aclose()


class OllamaLive:
    """A real Ollama server (and the real network for tools)."""

    source = "live"

    def __init__(self, host: str | None = None) -> None:
        self.host = resolve_host(host)

    def model_transport(self) -> AnyTransport:
        return NetworkTransport()

    def http_transport(self) -> AnyTransport | None:
        return None  # tools keep their own network transport (fetch pins resolved addresses); recording wraps it


class OpenAILive:
    """A real OpenAI-compatible server (vLLM, SGLang, llama.cpp, LM Studio) at `host`, e.g. `http://gpu1:8000/v1`.

    Without `host`: `OPENAI_BASE_URL`, else vLLM's local default, as `OpenAIServer` itself resolves it.
    """

    source = "live"

    def __init__(self, host: str | None = None) -> None:
        from castling.backbones.openai import resolve_host as resolve_openai_host

        self.host = resolve_openai_host(host)

    def model_transport(self) -> AnyTransport:
        return NetworkTransport()

    def http_transport(self) -> AnyTransport | None:
        return None  # as for Ollama: tools keep their own network transport


def live_for(scenario: Scenario, host: str | None = None) -> LiveSource:
    """The real server a scenario records from: the API its agent speaks, at `host` (Ollama: OLLAMA_HOST)."""
    return OpenAILive(host) if scenario.agent.server == "openai" else OllamaLive(host)


class ServerLive:
    """Any transport standing in for the live server (tests use `ScriptedOllama.transport`)."""

    def __init__(
        self, transport: AnyTransport, http: AnyTransport | None = None, *, source: str = "constructed"
    ) -> None:
        self.host = "http://127.0.0.1:11434"
        self.source = source
        self._transport = transport
        self._http = http

    def model_transport(self) -> AnyTransport:
        return self._transport

    def http_transport(self) -> AnyTransport | None:
        return self._http


def out_of_replies(recorded: int, source: str) -> str:
    """The error for a request after the last recorded reply was served (`source`: live or constructed)."""
    held = f"{recorded} model reply" if recorded == 1 else f"{recorded} model replies"
    file = f"the scenario file ({source} recording)"
    return f"no recorded reply left for this request: {file} holds {held}, all already sent"


class ScriptedFromScenario:
    """A constructed scenario's own replies, served in order whatever the request.

    This re-records constructed traffic after a prompt, schema or option change without a model; the result
    stays `source: constructed`.
    """

    source = "constructed"

    def __init__(self, scenario: Scenario, folder: Path | None = None) -> None:
        self.host = "http://127.0.0.1:11434"
        self.scenario = scenario
        self.folder = folder or Path()
        self._next = 0
        self._lock = threading.Lock()

    def model_transport(self) -> AnyTransport:
        return httpx.MockTransport(self._answer)

    def http_transport(self) -> AnyTransport | None:
        return httpx.MockTransport(self._http)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        body: Any = json.loads(request.content) if request.content else {}
        api = chat_api(request.url.path)
        if api is None:
            return discovery_response(self.scenario, request.url.path, body)
        with self._lock:
            index, self._next = self._next, self._next + 1
        turns = self.scenario.model_turns
        if index >= len(turns):
            return httpx.Response(500, json={"error": out_of_replies(len(turns), self.scenario.recording.source)})
        return turn_response(turns[index].response, streamed=wants_stream(body, api), api=api)

    def _http(self, request: httpx.Request) -> httpx.Response:
        for exchange in self.scenario.tool_http:
            if httpx.URL(exchange.request.url) == request.url:
                response = exchange.response
                body = (
                    read_blob(self.folder, response.body_file) if response.body_file else (response.body or "").encode()
                )
                return httpx.Response(response.status, headers=response.headers, content=body)
        return httpx.Response(404, text=f"{request.method} {request.url} is not recorded in {self.scenario.id!r}")
