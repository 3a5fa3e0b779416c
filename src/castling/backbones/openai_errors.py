"""What an OpenAI-compatible server (vLLM, SGLang, llama.cpp's server, LM Studio) said, as castling errors.

Each message says what to do on the server that most likely answered: the tool flags vLLM and llama.cpp need
are the usual cause of a 400 on the first call with tools.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx

from castling.backbones.openai_stream import error_message
from castling.backbones.wire import ChatTurn
from castling.errors import (
    CapabilityMissing,
    ModelNotFound,
    ModelStreamError,
    ModelTimeout,
    ServerError,
    ServerResponseError,
    ServerUnreachable,
)

START_HINT = (
    "start it (vLLM: `vllm serve MODEL --enable-auto-tool-choice --tool-call-parser hermes`; llama.cpp: "
    "`llama-server --jinja -m FILE.gguf`; SGLang: `python -m sglang.launch_server --model-path MODEL "
    "--tool-call-parser qwen25`; LM Studio: start its local server) or point host= at the server that runs it"
)
TOOL_FLAGS_HINT = (
    "Start the server with tool calling on: vLLM: `--enable-auto-tool-choice --tool-call-parser hermes` for Qwen "
    "(`llama3_json` for Llama); llama.cpp: `--jinja`; SGLang: `--tool-call-parser qwen25` (`llama3` for Llama). "
    "Or use Agent(..., strategy='plan'), which sends no tools."
)
_TOOL_FLAG_SIGNS = ("enable-auto-tool-choice", "tool-call-parser", "--jinja", "tools param requires")


def unreachable(host: str, model: str) -> ServerUnreachable:
    """Nothing listens at `host`."""
    return ServerUnreachable(f"No OpenAI-compatible server answers at {host}: {START_HINT}.", host=host, model=model)


def translate_http_error(
    exc: BaseException, *, host: str, model: str, turn: ChatTurn | None = None
) -> ServerError | None:
    """The castling error for a transport failure (refused, timed out, cut), or None if it is not one."""
    if isinstance(exc, httpx.ConnectError):
        return unreachable(host, model)
    if isinstance(exc, httpx.TimeoutException):
        return ModelTimeout(
            f"The server at {host} did not answer in time for model {model!r} ({type(exc).__name__}); the model may "
            "still be loading or the server is overloaded: retry, or raise timeout=.",
            host=host,
            model=model,
        )
    if isinstance(exc, httpx.TransportError):
        if turn is not None and (turn.content or turn.thinking or turn.tool_calls):
            return stream_error(f"the connection broke ({exc!r})", host=host, model=model, turn=turn)
        return ServerResponseError(f"Talking to the server at {host} failed: {exc!r}", host=host, model=model)
    return None


def stream_error(text: str, *, host: str, model: str, turn: ChatTurn) -> ModelStreamError:
    """An error in the middle of a streamed reply; what arrived before it is kept."""
    return ModelStreamError(
        f"The server at {host} reported an error in the middle of the reply from {model!r}: {text}. "
        f"The {len(turn.content)} characters received so far are kept on this error (partial_text).",
        host=host,
        model=model,
        partial_text=turn.content,
        partial_thinking=turn.thinking,
    )


def status_error(status: int, body: str, *, host: str, model: str, served: Sequence[str] = ()) -> ServerError:
    """The castling error for an HTTP error answer with `body`."""
    text = _body_text(body)
    lowered = text.lower()
    if any(sign in lowered for sign in _TOOL_FLAG_SIGNS):
        return CapabilityMissing(
            f"The server at {host} refused tools for {model!r} ({status}: {text}). {TOOL_FLAGS_HINT}",
            host=host,
            model=model,
            capability="tools",
        )
    if status == 404 or ("model" in lowered and "does not exist" in lowered):
        return model_not_found(host, model, served)
    if status in (401, 403):
        return ServerResponseError(
            f"The server at {host} refused the request ({status}: {text}): pass the key it expects with api_key=.",
            host=host,
            model=model,
            status_code=status,
        )
    message = f"The server at {host} answered {status} for model {model!r}: {text}"
    return ServerResponseError(message, host=host, model=model, status_code=status)


def model_not_found(host: str, model: str, served: Sequence[str]) -> ModelNotFound:
    """`model` is not among the models the server serves."""
    have = ", ".join(served) if served else "none reported"
    return ModelNotFound(
        f"Model {model!r} is not served at {host}. It serves: {have}. Use one of those names, or start the server "
        f"with the model (vLLM: `vllm serve {model}`; its --served-model-name is the name to use here).",
        host=host,
        model=model,
        installed=list(served),
    )


def _body_text(body: str) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.strip()[:500] or "(empty body)"
    message = error_message(parsed) if isinstance(parsed, dict) else None
    return message if message is not None else body.strip()[:500]
