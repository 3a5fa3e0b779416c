"""OpenAI-compatible chat completions as a `ModelServer`: vLLM, SGLang, llama.cpp's server, LM Studio.

Spoken over httpx directly (no SDK): `POST {host}/chat/completions` streamed as SSE with usage in the last chunk,
`GET {host}/models` for discovery. `host` is the API base URL, `/v1` included (`http://gpu1:8000/v1`); a bare
`http://gpu1:8000` gets `/v1` added. The httpx transport is injectable (`transport=`, or scoped with
`server.override_transport`), as for Ollama.

What the OpenAI wire cannot say, and what castling assumes instead:
- capabilities: servers do not report them, so every model is taken to have "completion", "tools" and
  "thinking"; a server started without tool calling answers the first call with tools with a 400, which becomes
  `CapabilityMissing` naming the flags to add.
- thinking on/off: `think=True/False` is sent as `chat_template_kwargs: {"enable_thinking": ...}`, which Qwen3's
  chat template reads on vLLM, SGLang and llama.cpp (`--jinja`); LM Studio and templates without the switch
  ignore it. A level (`think="high"`) is sent as `reasoning_effort` (gpt-oss). Thinking arrives in
  `reasoning_content`/`reasoning` (a reasoning parser is on) or as `<think>` in the text, which the backbone
  splits off.
- context length: vLLM's `max_model_len`, `context_length`, or llama.cpp's `meta.n_ctx_train` when listed.
- durations: not reported; `Usage` has the token counts only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from castling.backbones.openai_errors import model_not_found, status_error, stream_error, translate_http_error
from castling.backbones.openai_request import chat_body
from castling.backbones.openai_stream import StreamFailed, TurnAssembler
from castling.backbones.server import DEFAULT_TIMEOUT, AnyTransport, FlowServer, ModelInfo, client_for
from castling.backbones.sse import SseReader
from castling.backbones.wire import ChatRequest, ChatTurn, OnDelta
from castling.errors import ServerError, ServerResponseError
from castling.sansio import Flow, io

DEFAULT_HOST = "http://127.0.0.1:8000/v1"
ASSUMED_CAPABILITIES = frozenset({"completion", "tools", "thinking"})
_CONTEXT_KEYS = ("max_model_len", "context_length", "max_context_length")


def resolve_host(host: str | None) -> str:
    """The API base URL: the argument, else `OPENAI_BASE_URL`, else vLLM's local default; `/v1` added if bare."""
    raw = host or os.environ.get("OPENAI_BASE_URL") or DEFAULT_HOST
    if "://" not in raw:
        raw = f"http://{raw}"
    raw = raw.rstrip("/")
    return raw if urlsplit(raw).path else f"{raw}/v1"


class OpenAIServer(FlowServer):
    """Talks to one OpenAI-compatible server; caches what `/models` says per model."""

    api = "openai"

    def __init__(
        self,
        host: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        transport: AnyTransport | None = None,
    ) -> None:
        self.host = resolve_host(host)
        self._chat_url = httpx.URL(f"{self.host}/chat/completions")  # parsed once: ~2% of a step otherwise
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._transport = transport
        # Keyed by id(transport); the transport is kept in the value so that its id cannot be reused.
        self._clients: dict[int, tuple[AnyTransport | None, httpx.Client]] = {}
        self._aclients: dict[int, tuple[AnyTransport | None, httpx.AsyncClient]] = {}
        self._info: dict[str, ModelInfo] = {}

    def __repr__(self) -> str:
        return f"OpenAIServer({self.host!r})"  # never the API key

    # -- clients ---------------------------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        """The sync client for the transport in use now (one per transport: a scoped override gets its own)."""
        return client_for(self._clients, self._transport, self._new_client)

    @property
    def aclient(self) -> httpx.AsyncClient:
        """The async client for the transport in use now."""
        return client_for(self._aclients, self._transport, self._new_aclient)

    def _new_client(self, transport: AnyTransport | None) -> httpx.Client:
        sync = transport if isinstance(transport, httpx.BaseTransport) else None
        return httpx.Client(**self._client_kwargs(), transport=sync)

    def _new_aclient(self, transport: AnyTransport | None) -> httpx.AsyncClient:
        asynchronous = transport if isinstance(transport, httpx.AsyncBaseTransport) else None
        return httpx.AsyncClient(**self._client_kwargs(), transport=asynchronous)

    def _client_kwargs(self) -> dict[str, Any]:
        return {"headers": self._headers, "timeout": httpx.Timeout(self.timeout), "trust_env": False}

    # -- discovery -------------------------------------------------------------------------------------------
    # `show`, `list_models`, `chat` and their async twins come from `FlowServer`, over the flows below.
    def _show(self, model: str) -> Flow[ModelInfo]:
        """What the server lists for `model` (cached); `ModelNotFound` names the served models."""
        if model not in self._info:
            self._info[model] = self._model_info(model, (yield from self._served()))
        return self._info[model]

    def _list_models(self) -> Flow[list[str]]:
        """Names of the served models."""
        return sorted((yield from self._served()))

    def _served(self) -> Flow[dict[str, Mapping[str, Any]]]:
        url = f"{self.host}/models"
        try:
            response = yield from io(lambda: self.client.get(url), lambda: self.aclient.get(url))
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, "") from exc
        return self._models(response)

    def _models(self, response: httpx.Response) -> dict[str, Mapping[str, Any]]:
        if response.status_code == 404:
            raise ServerResponseError(
                f"{self.host}/models answered 404: is {self.host} the API base URL (usually ending in /v1)?",
                host=self.host,
                status_code=404,
            )
        if response.status_code >= 400:
            raise status_error(response.status_code, self._hide(response.text), host=self.host, model="")
        try:
            entries = response.json().get("data") or []
        except (ValueError, AttributeError) as exc:
            raise ServerResponseError(
                f"{self.host}/models did not answer with an OpenAI model list: {self._hide(response.text)[:200]!r}",
                host=self.host,
            ) from exc
        return {str(entry["id"]): entry for entry in entries if isinstance(entry, Mapping) and "id" in entry}

    def _model_info(self, model: str, served: Mapping[str, Mapping[str, Any]]) -> ModelInfo:
        entry = served.get(model)
        if entry is None:
            raise model_not_found(self.host, model, sorted(served))
        meta = entry.get("meta")
        values = [entry.get(key) for key in _CONTEXT_KEYS]
        if isinstance(meta, Mapping):  # llama.cpp
            values.append(meta.get("n_ctx_train"))
        context = next((int(value) for value in values if isinstance(value, int) and value > 0), None)
        return ModelInfo(model, ASSUMED_CAPABILITIES, context, str(entry.get("family") or ""))

    # -- chat ------------------------------------------------------------------------------------------------
    def _chat(self, request: ChatRequest, on_delta: OnDelta | None) -> Flow[ChatTurn]:
        """Stream one chat reply, passing deltas to `on_delta`, and return it whole."""
        assembler = TurnAssembler(on_delta)
        try:
            whole = yield from io(self._stream, self._astream, chat_body(request), assembler)
            if whole is not None and whole.status_code >= 400:
                status = whole.status_code
                served = sorted((yield from self._served_quietly())) if status == 404 else []
                raise status_error(status, self._hide(whole.text), host=self.host, model=request.model, served=served)
            if whole is not None:
                assembler.feed_completion(self._whole(whole.content))
        except StreamFailed as exc:
            raise stream_error(self._hide(str(exc)), host=self.host, model=request.model, turn=exc.turn) from exc
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, request.model, assembler.turn) from exc
        return assembler.finish()

    def _stream(self, body: dict[str, Any], assembler: TurnAssembler) -> httpx.Response | None:
        """Feed the SSE reply to `assembler`; return one that is not SSE (an error, or one JSON completion) read."""
        with self.client.stream("POST", self._chat_url, json=body) as response:
            if response.status_code >= 400 or _is_whole(response):
                response.read()
                return response
            reader = SseReader(assembler)
            for line in response.iter_lines():
                if not reader.feed(line):
                    break
            reader.end()
        return None

    async def _astream(self, body: dict[str, Any], assembler: TurnAssembler) -> httpx.Response | None:
        async with self.aclient.stream("POST", self._chat_url, json=body) as response:
            if response.status_code >= 400 or _is_whole(response):
                await response.aread()
                return response
            reader = SseReader(assembler)
            async for line in response.aiter_lines():
                if not reader.feed(line):
                    break
            reader.end()
        return None

    def close(self) -> None:
        """Close the sync HTTP clients."""
        for _, client in self._clients.values():
            client.close()

    async def aclose(self) -> None:
        """Close every HTTP client."""
        self.close()
        for _, aclient in self._aclients.values():
            await aclient.aclose()

    # -- errors ----------------------------------------------------------------------------------------------
    def _hide(self, text: str) -> str:
        """`text` from the server without the API key: a server may echo the key it refused, and errors are shown."""
        key = self._headers.get("Authorization", "").removeprefix("Bearer ")
        return text.replace(key, "<the API key>") if key else text

    def _whole(self, body: bytes) -> dict[str, Any]:
        try:
            completion = json.loads(body)
        except ValueError:
            completion = None
        if not isinstance(completion, dict):
            text = self._hide(body.decode("utf-8", "replace"))
            message = f"{self.host} answered with JSON that is not a chat completion: {text[:200]!r}"
            raise ServerResponseError(message, host=self.host)
        return completion

    def _transport_error(self, exc: httpx.HTTPError, model: str, turn: ChatTurn | None = None) -> ServerError:
        translated = translate_http_error(exc, host=self.host, model=model, turn=turn)
        return translated or ServerResponseError(f"Talking to {self.host} failed: {exc!r}", host=self.host, model=model)

    def _served_quietly(self) -> Flow[dict[str, Mapping[str, Any]]]:
        try:
            return (yield from self._served())
        except ServerError:
            return {}


def _is_whole(response: httpx.Response) -> bool:
    """A server that ignored `stream: true` answers with one JSON completion instead of SSE."""
    return str(response.headers.get("content-type", "")).startswith("application/json")
