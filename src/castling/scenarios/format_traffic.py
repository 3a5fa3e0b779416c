"""The recording in a scenario file: model turns as the wire carried them, discovery calls, and the tools' traffic.

Part of the file format (`format.py` holds the `Scenario` that contains these and re-exports them).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from castling.scenarios.format_base import Strict


class WireRequest(Strict):
    """An HTTP request as sent; JSON bodies parsed."""

    method: str = "POST"
    path: str = "/api/chat"
    body: Any = None
    fingerprint: str = ""


class WireResponse(Strict):
    """A model server's answer: the `chunks` of a stream, else one JSON `body`.

    Ollama streams NDJSON (`application/x-ndjson`, one chunk a line); the OpenAI wire streams SSE
    (`text/event-stream`, one chunk per `data:` event, `data: [DONE]` implied at the end unless `interrupted`).
    """

    status: int = 200
    content_type: str = "application/x-ndjson"
    chunks: list[dict[str, Any]] | None = None
    """Each streamed chunk as parsed JSON (an NDJSON line, or an SSE event's `data`)."""
    body: Any = None
    interrupted: bool = False
    """The stream was cut (the run crashed or the caller stopped reading)."""


class TurnSummary(Strict):
    """A readable digest of one reply, for people and reports; never used for replay."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    done_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_ms: float = 0.0


class ModelTurn(Strict):
    """One model call: `POST /api/chat` (Ollama) or `POST /v1/chat/completions` (OpenAI-compatible)."""

    turn: int
    request: WireRequest
    response: WireResponse
    summary: TurnSummary = Field(default_factory=TurnSummary)
    """Derived from the chunks when not given (a v2 file never writes it)."""

    @model_validator(mode="after")
    def _derived(self) -> ModelTurn:
        # Both are computed from the turn itself, so a file need not carry them (schema version 2 does not).
        from castling.scenarios.canonical import fingerprint
        from castling.scenarios.recorder import summarise

        if not self.request.fingerprint:
            self.request.fingerprint = fingerprint(self.request.body)
        if "summary" not in self.model_fields_set:
            chunks = self.response.chunks if self.response.chunks is not None else [self.response.body]
            self.summary = summarise(chunks)
        return self


class ServerExchange(Strict):
    """A discovery call (`/api/show`, `/api/tags`, `/api/version`, `/v1/models`): served whenever asked, any order."""

    path: str
    model: str = ""
    status: int = 200
    body: Any = None


class HttpRequest(Strict):
    """A tool's HTTP request (secret headers redacted)."""

    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None


BLOB_PATTERN = r"^blobs/[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""One file name inside the scenario's own `blobs/` folder: no `..`, no absolute path, no sub-folders."""


class HttpResponse(Strict):
    """The answer to a tool's HTTP request."""

    status: int = 200
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    body_file: str | None = Field(default=None, pattern=BLOB_PATTERN)
    """A blob beside the scenario file (`blobs/sha256-….ext`) for large or binary bodies; nothing outside it."""


class HttpExchange(Strict):
    """One HTTP exchange made by a tool (the fetch tool's traffic)."""

    id: str
    tool: str = ""
    request: HttpRequest
    response: HttpResponse


class CodeCell(Strict):
    """One call of the code tool: re-run by default, or its recorded output replayed."""

    id: str
    tool: str
    policy: Literal["rerun", "replay"] = "rerun"
    input: dict[str, Any]
    output: str


class McpCall(Strict):
    """One `tools/call` to an MCP server: its params (tool, arguments) and its result, or the error it raised."""

    id: str
    tool: str
    """The tool's name on the server."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    """The `CallToolResult` as the server sent it (JSON-RPC field names: `content`, `isError`, ...)."""
    error: str | None = None
    """The call failed without a result (the server crashed, the call timed out): the error the tool raised."""


class McpToolList(Strict):
    """The tool list read again after the server said it changed (`notifications/tools/list_changed`)."""

    after_calls: int
    """Replay serves it once this many of the server's calls were made."""
    tools: list[dict[str, Any]] = Field(default_factory=list)


class McpTraffic(Strict):
    """One MCP server's traffic: its tool list and its calls. Replay serves them; it never starts the server."""

    name: str
    """The server's name: `mcp(name=...)`, else its command line or URL when recorded."""
    label: str = ""
    """The command line or URL it was recorded from (for people; never run from the file)."""
    tools: list[dict[str, Any]] = Field(default_factory=list)
    """The `tools/list` result (every tool, as the server sent it)."""
    allow: list[str] | None = None
    deny: list[str] = Field(default_factory=list)
    prefix: str = ""
    """The agent's choice of tools when recorded (`allow=`, `deny=`, `prefix=`), for `agent.mcp` replays."""
    calls: list[McpCall] = Field(default_factory=list)
    relisted: list[McpToolList] = Field(default_factory=list)
    """Later tool lists, when the server changed its tools during the run."""
