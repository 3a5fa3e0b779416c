"""Every error castling raises, in one hierarchy.

Each message says what happened and what to do next::

    CastlingError
    ├── ConfigError                 bad arguments: unknown backbone, strategy not available, bad tool
    ├── ServerError                 anything between castling and the model server (Ollama or OpenAI-compatible)
    │   ├── ServerUnreachable       nothing listens at the host (the message says what to start)
    │   ├── ModelNotFound           the model is not installed / served; lists the ones that are
    │   ├── CapabilityMissing       the model (or the server's flags) lacks tools / thinking; names what would work
    │   ├── ModelTimeout            no answer within the timeout
    │   ├── ModelStreamError        the server reported an error mid-stream; carries the partial output
    │   ├── ThinkingBudgetExhausted num_predict was spent thinking, nothing was answered
    │   ├── ServerResponseError     any other error status from the server
    │   └── StructuredOutputError   a JSON-schema reply was cut off or invalid, even after one retry
    ├── ContextOverflow             a request cannot fit the context window (sent ≈N tokens, window M)
    ├── StepLimitExceeded           the run hit max_steps (only with on_max_steps="error")
    ├── ReplanLimitExceeded         the plan strategy hit max_replans (only with on_max_steps="error")
    ├── ScenarioFileError           a scenario file is missing, not YAML, or not a valid scenario (file:line)
    ├── CheckpointerUnavailable     the checkpoint database cannot be reached or set up (says which, and why)
    └── ThreadBusy                  another run holds the thread and did not finish in time

`OllamaError`, `OllamaUnreachable` and `OllamaResponseError` are the same classes under the names they had
when every server was Ollama: `except OllamaError` still catches every server's errors.
"""

from __future__ import annotations

from collections.abc import Sequence


class CastlingError(Exception):
    """Base class of every castling error."""


class ConfigError(CastlingError, ValueError):
    """The agent, backbone or tool was configured with arguments that cannot work."""


class ServerError(CastlingError):
    """A failure talking to the model server (Ollama, or an OpenAI-compatible one such as vLLM)."""

    def __init__(self, message: str, *, host: str = "", model: str = "") -> None:
        super().__init__(message)
        self.host = host
        self.model = model


OllamaError = ServerError
"""`ServerError` under its name from when every server was Ollama."""


class ServerUnreachable(ServerError):
    """No model server answers at the configured host."""


OllamaUnreachable = ServerUnreachable
"""`ServerUnreachable` under its name from when every server was Ollama."""


class ModelNotFound(ServerError):
    """The requested model is not installed on the server."""

    def __init__(self, message: str, *, host: str = "", model: str = "", installed: Sequence[str] = ()) -> None:
        super().__init__(message, host=host, model=model)
        self.installed = tuple(installed)


class CapabilityMissing(ServerError):
    """The model lacks a capability the request needs (tools, thinking)."""

    def __init__(self, message: str, *, host: str = "", model: str = "", capability: str = "") -> None:
        super().__init__(message, host=host, model=model)
        self.capability = capability


class ModelTimeout(ServerError):
    """The server did not answer within the configured timeout."""


class ModelStreamError(ServerError):
    """The server reported an error in the middle of a streamed reply.

    The text and thinking received before the error are kept in `partial_text` and `partial_thinking`.
    """

    def __init__(
        self, message: str, *, host: str = "", model: str = "", partial_text: str = "", partial_thinking: str = ""
    ) -> None:
        super().__init__(message, host=host, model=model)
        self.partial_text = partial_text
        self.partial_thinking = partial_thinking


class ThinkingBudgetExhausted(ServerError):
    """The model used its whole `num_predict` budget thinking and produced no answer."""

    def __init__(self, message: str, *, host: str = "", model: str = "", thinking: str = "") -> None:
        super().__init__(message, host=host, model=model)
        self.thinking = thinking


class ServerResponseError(ServerError):
    """The server answered with an error status castling has no more specific class for."""

    def __init__(self, message: str, *, host: str = "", model: str = "", status_code: int = 0) -> None:
        super().__init__(message, host=host, model=model)
        self.status_code = status_code


OllamaResponseError = ServerResponseError
"""`ServerResponseError` under its name from when every server was Ollama."""


class ContextMemoryWarning(UserWarning):
    """The context window asked for needs more KV-cache memory than the server is assumed to have."""


class ContextOverflow(CastlingError):
    """A request does not fit the model's context window, or the server evidently cut it.

    `tokens` is castling's estimate of the prompt, `window` the context length the request used.
    """

    def __init__(self, message: str, *, model: str = "", tokens: int = 0, window: int = 0) -> None:
        super().__init__(message)
        self.model = model
        self.tokens = tokens
        self.window = window


class StepLimitExceeded(CastlingError):
    """The run reached `max_steps` model calls without a final answer."""

    def __init__(self, message: str, *, max_steps: int) -> None:
        super().__init__(message)
        self.max_steps = max_steps


class StructuredOutputError(ServerError):
    """The model's JSON-schema (`format`) reply was cut off or did not match the schema, twice in a row.

    `done_reason` is `"length"` when `num_predict` cut the reply; `content` holds the last reply.
    """

    def __init__(
        self, message: str, *, host: str = "", model: str = "", content: str = "", done_reason: str = ""
    ) -> None:
        super().__init__(message, host=host, model=model)
        self.content = content
        self.done_reason = done_reason


class ReplanLimitExceeded(CastlingError):
    """The plan strategy needed more than `max_replans` plan revisions."""

    def __init__(self, message: str, *, max_replans: int) -> None:
        super().__init__(message)
        self.max_replans = max_replans


class ScenarioFileError(CastlingError):
    """A scenario file cannot be used; the message names the file and line."""

    def __init__(self, message: str, *, path: str = "", line: int = 0) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class CheckpointerUnavailable(CastlingError):
    """The checkpoint database could not be reached or its tables set up; the message says where and why."""


class ThreadBusy(CastlingError):
    """Another run (in this process or another) holds the thread and did not end within the lock wait."""

    def __init__(self, message: str, *, thread_id: str) -> None:
        super().__init__(message)
        self.thread_id = thread_id
