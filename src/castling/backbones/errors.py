"""Turns what the `ollama` client and httpx raise into castling errors that say what to do."""

from __future__ import annotations

import httpx
import ollama

from castling.backbones.wire import ChatTurn
from castling.errors import (
    CapabilityMissing,
    ModelNotFound,
    ModelStreamError,
    ModelTimeout,
    OllamaError,
    OllamaResponseError,
    OllamaUnreachable,
)

SUGGESTED_MODELS = "qwen3:8b or llama3.1:8b"


def translate_error(
    exc: BaseException, *, host: str, model: str, turn: ChatTurn | None = None, installed: list[str] | None = None
) -> OllamaError:
    """The castling error for an exception raised while talking to Ollama."""
    if isinstance(exc, OllamaError):
        return exc
    if isinstance(exc, ConnectionError | httpx.ConnectError):
        return OllamaUnreachable(
            f"Ollama is not reachable at {host}: start it with `ollama serve` "
            "(or point OLLAMA_HOST / host= at the server that runs it).",
            host=host,
            model=model,
        )
    if turn is not None and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return cut_short(turn, host=host, model=model, detail=str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.TimeoutException):
        return ModelTimeout(
            f"Ollama at {host} did not answer in time for model {model!r} ({type(exc).__name__}); the model may "
            "still be loading or the machine is too slow for it: retry, raise timeout=, or pick a smaller model.",
            host=host,
            model=model,
        )
    if isinstance(exc, ollama.ResponseError):
        return _from_response(exc, host=host, model=model, turn=turn, installed=installed or [])
    return OllamaResponseError(f"Talking to Ollama at {host} failed: {exc!r}", host=host, model=model)


def _from_response(
    exc: ollama.ResponseError, *, host: str, model: str, turn: ChatTurn | None, installed: list[str]
) -> OllamaError:
    text = exc.error
    if exc.status_code == -1:
        partial = turn.content if turn else ""
        return ModelStreamError(
            f"Ollama reported an error in the middle of the reply from {model!r}: {text}. "
            f"The {len(partial)} characters received so far are kept on this error (partial_text).",
            host=host,
            model=model,
            partial_text=partial,
            partial_thinking=turn.thinking if turn else "",
        )
    if exc.status_code == 404:
        have = ", ".join(installed) if installed else "none"
        return ModelNotFound(
            f"Model {model!r} is not installed on {host}: run `ollama pull {model}`. Installed models: {have}.",
            host=host,
            model=model,
            installed=installed,
        )
    missing = _capability_missing(text, host=host, model=model)
    if missing is not None:
        return missing
    return OllamaResponseError(
        f"Ollama at {host} answered {exc.status_code} for model {model!r}: {text}",
        host=host,
        model=model,
        status_code=exc.status_code,
    )


def _capability_missing(text: str, *, host: str, model: str) -> CapabilityMissing | None:
    """The error for an Ollama refusal that names a capability the model lacks (tools, thinking), if it is one."""
    lowered = text.lower()
    if "does not support tools" in lowered:
        return CapabilityMissing(
            f"Model {model!r} does not support tools (Ollama said: {text}). Use a tool-capable model such as "
            f"{SUGGESTED_MODELS}, or Agent(..., strategy='plan'), which does not need the tools capability.",
            host=host,
            model=model,
            capability="tools",
        )
    if "does not support thinking" in lowered:
        return CapabilityMissing(
            f"Model {model!r} does not support thinking (Ollama said: {text}). Turn it off with think=False, "
            "or use a thinking model such as qwen3:8b.",
            host=host,
            model=model,
            capability="thinking",
        )
    return None


def cut_short(turn: ChatTurn, *, host: str, model: str, detail: str = "") -> ModelStreamError:
    """The error for a stream that ended before the server's final chunk (server killed, proxy timeout)."""
    why = f" ({detail})" if detail else ""
    return ModelStreamError(
        f"The connection to {host} ended before the reply from {model!r} was complete{why}: the server may have "
        f"stopped or restarted. The {len(turn.content)} characters received are kept on this error (partial_text); "
        "retry once the server is up.",
        host=host,
        model=model,
        partial_text=turn.content,
        partial_thinking=turn.thinking,
    )
