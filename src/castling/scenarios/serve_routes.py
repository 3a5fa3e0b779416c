"""Which method and route `castling serve` answers, and how it answers the rest: as Ollama does.

Ollama (gin) answers `GET /` with `Ollama is running`, an unknown path with 404 `404 page not found`, a known
path asked with the wrong method with 405, an empty body with 400 `missing request body` and a body that is not
JSON with 400. The replay does the same, before any of it can reach (and use up) a recorded turn. OpenAI-wire
routes (`/v1/…`) keep their own shape of errors.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx

from castling.scenarios.openai_wire import chat_api, error_response, is_models_path

OLLAMA_ROUTES: dict[str, frozenset[str]] = {
    "/": frozenset({"GET", "HEAD"}),
    "/api/tags": frozenset({"GET", "HEAD"}),
    "/api/version": frozenset({"GET", "HEAD"}),
    "/api/ps": frozenset({"GET"}),
    "/api/chat": frozenset({"POST"}),
    "/api/generate": frozenset({"POST"}),
    "/api/show": frozenset({"POST"}),
}
RUNNING = "Ollama is running"


def is_openai(path: str) -> bool:
    """Whether `path` belongs to the OpenAI-compatible API (`/v1/chat/completions`, `/v1/models`, …)."""
    route = urlsplit(path).path
    return route.startswith("/v1/") or chat_api(route) == "openai" or is_models_path(route)


def early_answer(method: str, path: str, body: bytes) -> httpx.Response | None:
    """The answer to a request that needs no recording (or cannot have one); None to pass it on to the replay."""
    route = urlsplit(path).path
    if is_openai(path):
        if chat_api(route) == "openai" and method != "POST":
            return error_response(405, f"{method} {route} is not allowed: chat completions are POSTed")
        return _json_problem(body, openai=True) if method == "POST" else None
    allowed = OLLAMA_ROUTES.get(route)
    if allowed is None:
        return _text(404, "404 page not found")
    if method not in allowed:
        return _text(405, "405 method not allowed")
    if route == "/":
        return _text(200, RUNNING)
    return _json_problem(body, openai=False) if method == "POST" else None


def _json_problem(body: bytes, *, openai: bool) -> httpx.Response | None:
    """400 for a missing body or one that is not a JSON object; None if it is one."""
    if not body.strip():
        message = "missing request body"
    else:
        try:
            value = json.loads(body)
        except ValueError as exc:
            message = f"invalid JSON in the request body: {_short(exc)}"
        else:
            if isinstance(value, dict):
                return None
            message = f"the request body must be a JSON object, not {type(value).__name__}"
    return error_response(400, message) if openai else httpx.Response(400, json={"error": message})


def _short(exc: ValueError) -> str:
    return exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)[:200]


def _text(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "text/plain; charset=utf-8"}, content=text.encode())
