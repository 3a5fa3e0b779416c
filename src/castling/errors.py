"""Every error castling raises, in one hierarchy.

Each message says what happened and what to do next::

    CastlingError
    ├── ConfigError                 bad arguments: unknown backbone, strategy not available, bad tool
    ├── OllamaError                 anything between castling and the Ollama server
    │   ├── OllamaUnreachable       nothing listens at the host (start it with `ollama serve`)
    │   ├── ModelNotFound           the model is not pulled (`ollama pull NAME`); lists installed models
    │   ├── CapabilityMissing       the model lacks tools / thinking support; names what would work
    │   ├── ModelTimeout            no answer within the timeout
    │   ├── ModelStreamError        the server reported an error mid-stream; carries the partial output
    │   ├── ThinkingBudgetExhausted num_predict was spent thinking, nothing was answered
    │   ├── OllamaResponseError     any other error status from the server
    │   └── StructuredOutputError   a JSON-schema reply was cut off or invalid, even after one retry
    ├── StepLimitExceeded           the run hit max_steps (only with on_max_steps="error")
    ├── ReplanLimitExceeded         the plan strategy hit max_replans (only with on_max_steps="error")
    ├── ScenarioFileError           a scenario file is missing, not YAML, or not a valid scenario (file:line)
    ├── CheckpointerUnavailable     the checkpoint database cannot be reached or set up (says which, and why)
    └── ThreadBusy                  another run holds the thread and did not finish in time
"""

from __future__ import annotations

from collections.abc import Sequence


class CastlingError(Exception):
    """Base class of every castling error."""


class ConfigError(CastlingError, ValueError):
    """The agent, backbone or tool was configured with arguments that cannot work."""


class OllamaError(CastlingError):
    """A failure talking to the Ollama server."""

    def __init__(self, message: str, *, host: str = "", model: str = "") -> None:
        super().__init__(message)
        self.host = host
        self.model = model


class OllamaUnreachable(OllamaError):
    """No Ollama server answers at the configured host."""


class ModelNotFound(OllamaError):
    """The requested model is not installed on the server."""

    def __init__(self, message: str, *, host: str = "", model: str = "", installed: Sequence[str] = ()) -> None:
        super().__init__(message, host=host, model=model)
        self.installed = tuple(installed)


class CapabilityMissing(OllamaError):
    """The model lacks a capability the request needs (tools, thinking)."""

    def __init__(self, message: str, *, host: str = "", model: str = "", capability: str = "") -> None:
        super().__init__(message, host=host, model=model)
        self.capability = capability


class ModelTimeout(OllamaError):
    """The server did not answer within the configured timeout."""


class ModelStreamError(OllamaError):
    """The server reported an error in the middle of a streamed reply.

    The text and thinking received before the error are kept in `partial_text` and `partial_thinking`.
    """

    def __init__(
        self, message: str, *, host: str = "", model: str = "", partial_text: str = "", partial_thinking: str = ""
    ) -> None:
        super().__init__(message, host=host, model=model)
        self.partial_text = partial_text
        self.partial_thinking = partial_thinking


class ThinkingBudgetExhausted(OllamaError):
    """The model used its whole `num_predict` budget thinking and produced no answer."""

    def __init__(self, message: str, *, host: str = "", model: str = "", thinking: str = "") -> None:
        super().__init__(message, host=host, model=model)
        self.thinking = thinking


class OllamaResponseError(OllamaError):
    """The server answered with an error status castling has no more specific class for."""

    def __init__(self, message: str, *, host: str = "", model: str = "", status_code: int = 0) -> None:
        super().__init__(message, host=host, model=model)
        self.status_code = status_code


class StepLimitExceeded(CastlingError):
    """The run reached `max_steps` model calls without a final answer."""

    def __init__(self, message: str, *, max_steps: int) -> None:
        super().__init__(message)
        self.max_steps = max_steps


class StructuredOutputError(OllamaError):
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
