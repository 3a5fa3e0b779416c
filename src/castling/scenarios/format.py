"""The scenario file: pydantic models, the published JSON Schema and `schema_version`.

A scenario keeps the task and agent config, the recording (model turns exactly as the wire carried them, the
tools' HTTP traffic, code cells), the outcome of the recorded run, and hand-written expectations that
re-recording never rewrites.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION: Literal[2] = 2
"""What files are written as; version 1 files (every field written out) still load (`compact.py` has the v2 form)."""
Source = Literal["live", "constructed"]
Mode = Literal["replay", "record", "record-missing", "update", "live"]
MODES: tuple[Mode, ...] = ("replay", "record", "record-missing", "update", "live")
INLINE_LIMIT = 4096
"""Bodies larger than this (bytes) go to a blob file beside the scenario."""
REPLAY_HEADER = "x-castling-replay"
"""Sent by `castling serve` on every answer, so clients can tell a replay from a real Ollama."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentConfig(_Strict):
    """How to build the agent that runs the task."""

    runner: Literal["agent", "wire"] = "agent"
    """`agent`: a castling Agent; `wire`: resend the recorded requests with the ollama client (converted traffic)."""
    backbone: str = "qwen"
    """Backbone family: `qwen`, `llama`, or one registered in code (`castling.backbones.registry.register_backbone`)."""
    model: str = "qwen3:8b"
    server: Literal["ollama", "openai"] = "ollama"
    """The API the model server speaks: `ollama` (`/api/chat`) or `openai` (`/v1/chat/completions`: vLLM, SGLang,
    llama.cpp's server, LM Studio). Replay serves whichever API the model turns recorded."""
    strategy: Literal["tools", "plan"] | None = None
    system: str | None = None
    think: bool | str | None = None
    num_ctx: int | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    max_steps: int = 12
    tools: list[str] = Field(default_factory=list)
    """Tool names: built-ins (`python`, `fetch`), the library's stand-ins, or tools registered by the host side."""
    mcp: list[str] = Field(default_factory=list)
    """MCP servers by name: replay serves their recorded traffic (`mcp:` section); recording needs the host side
    to register a server under each name (`register_mcp`). A file never starts a server."""


class Recording(_Strict):
    """When, where and how the traffic was captured."""

    source: Source
    """`live`: a real model answered. `constructed`: hand-written traffic (never blur the two)."""
    recorded_at: str = ""
    ollama_version: str = ""
    model_digest: str = ""
    client_versions: dict[str, str] = Field(default_factory=dict)
    redactions: list[str] = Field(default_factory=list)
    provenance: str = ""
    """Where converted traffic came from (repository @ commit : path)."""


class WireRequest(_Strict):
    """An HTTP request as sent; JSON bodies parsed."""

    method: str = "POST"
    path: str = "/api/chat"
    body: Any = None
    fingerprint: str = ""


class WireResponse(_Strict):
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


class TurnSummary(_Strict):
    """A readable digest of one reply, for people and reports; never used for replay."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    done_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_ms: float = 0.0


class ModelTurn(_Strict):
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


class ServerExchange(_Strict):
    """A discovery call (`/api/show`, `/api/tags`, `/api/version`, `/v1/models`): served whenever asked, any order."""

    path: str
    model: str = ""
    status: int = 200
    body: Any = None


class HttpRequest(_Strict):
    """A tool's HTTP request (secret headers redacted)."""

    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None


BLOB_PATTERN = r"^blobs/[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""One file name inside the scenario's own `blobs/` folder: no `..`, no absolute path, no sub-folders."""


class HttpResponse(_Strict):
    """The answer to a tool's HTTP request."""

    status: int = 200
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    body_file: str | None = Field(default=None, pattern=BLOB_PATTERN)
    """A blob beside the scenario file (`blobs/sha256-….ext`) for large or binary bodies; nothing outside it."""


class HttpExchange(_Strict):
    """One HTTP exchange made by a tool (the fetch tool's traffic)."""

    id: str
    tool: str = ""
    request: HttpRequest
    response: HttpResponse


class CodeCell(_Strict):
    """One call of the code tool: re-run by default, or its recorded output replayed."""

    id: str
    tool: str
    policy: Literal["rerun", "replay"] = "rerun"
    input: dict[str, Any]
    output: str


class McpCall(_Strict):
    """One `tools/call` to an MCP server: its params (tool, arguments) and its result, or the error it raised."""

    id: str
    tool: str
    """The tool's name on the server."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    """The `CallToolResult` as the server sent it (JSON-RPC field names: `content`, `isError`, ...)."""
    error: str | None = None
    """The call failed without a result (the server crashed, the call timed out): the error the tool raised."""


class McpToolList(_Strict):
    """The tool list read again after the server said it changed (`notifications/tools/list_changed`)."""

    after_calls: int
    """Replay serves it once this many of the server's calls were made."""
    tools: list[dict[str, Any]] = Field(default_factory=list)


class McpTraffic(_Strict):
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


class ToolCallOutcome(_Strict):
    """One tool call of the run."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: str | None = None
    error: str | None = None


class Outcome(_Strict):
    """What the recorded run produced."""

    final_answer: str = ""
    steps: int = 0
    tool_calls: list[ToolCallOutcome] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_ms: float = 0.0
    stop_reason: str = "answer"
    error: str | None = None


class AnswerCheck(_Strict):
    """Checks on the final answer text."""

    contains: str | list[str] | None = None
    icontains: str | list[str] | None = None
    not_contains: str | list[str] | None = None
    equals: str | None = None
    regex: str | None = None


class ToolCalledCheck(_Strict):
    """The tool was called (with these arguments, `partial` or `exact`) between min and max times."""

    name: str
    args: dict[str, Any] | None = None
    match: Literal["partial", "exact"] = "partial"
    min: int = 1
    max: int | None = None


class ToolNotCalledCheck(_Strict):
    """The tool was never called."""

    name: str


class TrajectoryCall(_Strict):
    """One expected tool call of a trajectory."""

    name: str
    args: dict[str, Any] | None = None
    """`None`: any arguments."""


class TrajectoryCheck(_Strict):
    """The run's tool calls against a reference list (agentevals' trajectory match modes).

    `strict`: the same calls in the same order; `unordered`: the same calls in any order; `subset`: every call
    the run made is in the reference; `superset`: every reference call is among the run's calls.
    """

    calls: list[TrajectoryCall]
    mode: Literal["strict", "unordered", "subset", "superset"] = "strict"
    args: Literal["exact", "partial"] = "exact"
    """`partial`: the reference's arguments must appear with those values; others may be present."""


class Expectation(_Strict):
    """One check on the outcome; exactly one field is set."""

    final_answer: AnswerCheck | None = None
    tool_called: ToolCalledCheck | None = None
    tool_not_called: ToolNotCalledCheck | None = None
    max_steps: int | None = None
    no_error: bool | None = None
    custom: str | None = None
    """A check registered by the host side (`register_check`, or configuration), never imported from the file."""
    trajectory: TrajectoryCheck | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Expectation:
        kinds = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError(f"an expectation has exactly one kind; got {kinds or 'none'}")
        return self


class Matching(_Strict):
    """How strictly replay compares requests."""

    ignore_paths: list[str] = Field(default_factory=list)
    """JSON paths dropped before comparing model requests (`$.options.seed`, `$.tools[*].function.description`)."""
    unused_recordings: Literal["fail", "warn"] = "fail"
    system_prompt: Literal["strict", "ignore"] = "strict"
    """`ignore` leaves system messages out of the comparison (for prompts that change often; use sparingly)."""


class Scenario(_Strict):
    """One recorded agent run and what it must achieve."""

    schema_version: Literal[1, 2] = SCHEMA_VERSION
    id: str
    task_id: str = ""
    """Groups the same task across backbones in `castling compare`; defaults to `id`."""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    task: str
    user_turns: list[str] = Field(default_factory=list)
    """Further user messages, sent in order on the same thread after the task is answered (a chat session)."""
    agent: AgentConfig = Field(default_factory=AgentConfig)
    recording: Recording
    server: list[ServerExchange] = Field(default_factory=list)
    model_turns: list[ModelTurn] = Field(default_factory=list)
    tool_http: list[HttpExchange] = Field(default_factory=list)
    code_exec: list[CodeCell] = Field(default_factory=list)
    mcp: list[McpTraffic] = Field(default_factory=list)
    outcome: Outcome = Field(default_factory=Outcome)
    expectations: list[Expectation] = Field(default_factory=list)
    matching: Matching = Field(default_factory=Matching)

    @property
    def group(self) -> str:
        return self.task_id or self.id


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (for editor completion: `# yaml-language-server: $schema=...`)."""
    from castling.scenarios.compact import add_v2_forms

    schema = add_v2_forms(Scenario.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "castling scenario"
    return schema


def json_schema_text() -> str:
    """The JSON Schema as stable, pretty text."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
