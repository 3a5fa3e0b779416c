"""The scenario file: pydantic models, the published JSON Schema and `schema_version`.

A scenario keeps the task and agent config, the recording (model turns exactly as the wire carried them, the
tools' HTTP traffic, code cells), the outcome of the recorded run, and hand-written expectations that
re-recording never rewrites.

The recording's models are in `format_traffic.py` and the expectation vocabulary in `format_checks.py`; every
public name is importable from here.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from castling.scenarios.format_base import Strict
from castling.scenarios.format_checks import (
    AnswerCheck,
    Expectation,
    ToolCalledCheck,
    ToolNotCalledCheck,
    TrajectoryCall,
    TrajectoryCheck,
)
from castling.scenarios.format_traffic import (
    BLOB_PATTERN,
    CodeCell,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    McpCall,
    McpToolList,
    McpTraffic,
    ModelTurn,
    ServerExchange,
    TurnSummary,
    WireRequest,
    WireResponse,
)

__all__ = [
    "BLOB_PATTERN",
    "INLINE_LIMIT",
    "MODES",
    "REPLAY_HEADER",
    "SCHEMA_VERSION",
    "AgentConfig",
    "AnswerCheck",
    "CodeCell",
    "Expectation",
    "HttpExchange",
    "HttpRequest",
    "HttpResponse",
    "Matching",
    "McpCall",
    "McpToolList",
    "McpTraffic",
    "Mode",
    "ModelTurn",
    "Outcome",
    "Recording",
    "Scenario",
    "ServerExchange",
    "Source",
    "ToolCallOutcome",
    "ToolCalledCheck",
    "ToolNotCalledCheck",
    "TrajectoryCall",
    "TrajectoryCheck",
    "TurnSummary",
    "WireRequest",
    "WireResponse",
    "json_schema",
    "json_schema_text",
]

SCHEMA_VERSION: Literal[2] = 2
"""What files are written as; version 1 files (every field written out) still load (`compact.py` has the v2 form)."""
Source = Literal["live", "constructed"]
Mode = Literal["replay", "record", "record-missing", "update", "live"]
MODES: tuple[Mode, ...] = ("replay", "record", "record-missing", "update", "live")
INLINE_LIMIT = 4096
"""Bodies larger than this (bytes) go to a blob file beside the scenario."""
REPLAY_HEADER = "x-castling-replay"
"""Sent by `castling serve` on every answer, so clients can tell a replay from a real Ollama."""


class AgentConfig(Strict):
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


class Recording(Strict):
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


class ToolCallOutcome(Strict):
    """One tool call of the run."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: str | None = None
    error: str | None = None


class Outcome(Strict):
    """What the recorded run produced."""

    final_answer: str = ""
    steps: int = 0
    tool_calls: list[ToolCallOutcome] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_ms: float = 0.0
    stop_reason: str = "answer"
    error: str | None = None


class Matching(Strict):
    """How strictly replay compares requests."""

    ignore_paths: list[str] = Field(default_factory=list)
    """JSON paths dropped before comparing model requests (`$.options.seed`, `$.tools[*].function.description`)."""
    unused_recordings: Literal["fail", "warn"] = "fail"
    system_prompt: Literal["strict", "ignore"] = "strict"
    """`ignore` leaves system messages out of the comparison (for prompts that change often; use sparingly)."""


class Scenario(Strict):
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
