"""Run a scenario's task once through given transports and summarise what happened as an `Outcome`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from langchain_core.tools import BaseTool, StructuredTool

from castling.errors import CastlingError
from castling.scenarios.errors import ScenarioDivergence
from castling.scenarios.format import AgentConfig, CodeCell, Outcome, Scenario, ToolCallOutcome
from castling.scenarios.library_tools import HTTP_TOOLS, make_tool
from castling.scenarios.openai_wire import REPLAY_OPENAI_HOST, api_prefix

if TYPE_CHECKING:
    from castling.agents.result import RunResult

AnyTransport = httpx.BaseTransport | httpx.AsyncBaseTransport
CODE_TOOL = "run_python"


def build_backbone(
    config: AgentConfig, transport: AnyTransport, host: str | None = None, api_key: str | None = None
) -> Any:
    """The backbone the config names: a registered family only (a scenario file never imports code).

    `api_key`: the bearer key of an OpenAI-compatible server (given by the user, never read from the file).
    """
    from castling.backbones.registry import backbone_class

    cls: Any = backbone_class(config.backbone)
    kwargs: dict[str, Any] = {"think": config.think, "num_ctx": config.num_ctx, "options": dict(config.options)}
    if config.server != "ollama":  # families registered before the seam may not take `server=`
        kwargs["server"] = config.server
        if api_key is not None:
            kwargs["api_key"] = api_key
    return cls(config.model, host=host, transport=transport, **kwargs)


def model_host(scenario: Scenario, host: str | None) -> str | None:
    """`host`, or for the OpenAI wire a loopback URL with the recorded API prefix, so paths replay as recorded."""
    if host is not None or scenario.agent.server != "openai":
        return host
    return REPLAY_OPENAI_HOST + api_prefix(scenario)


def build_tools(scenario: Scenario, http: AnyTransport | None) -> list[BaseTool]:
    """The scenario's tools by name; HTTP tools get `http` as their transport."""
    tools = [make_tool(name, http if name in HTTP_TOOLS else None) for name in scenario.agent.tools]
    replayed = [cell for cell in scenario.code_exec if cell.policy == "replay"]
    return [_replaying(t, replayed) if t.name == CODE_TOOL and replayed else t for t in tools]


def _replaying(inner: BaseTool, cells: list[CodeCell]) -> BaseTool:
    """The code tool with its recorded outputs played back in order (for slow or side-effecting code)."""
    queue: Iterator[CodeCell] = iter(cells)

    def played(**arguments: Any) -> str:
        cell = next(queue, None)
        if cell is None:
            return "Error: no recorded code output left to replay"
        return cell.output

    return StructuredTool.from_function(
        func=played, name=inner.name, description=inner.description, args_schema=inner.args_schema
    )


def execute(
    scenario: Scenario,
    model: AnyTransport,
    http: AnyTransport | None,
    host: str | None = None,
    mcp: Sequence[Any] = (),
    api_key: str | None = None,
) -> Outcome:
    """Run the task; castling errors become `outcome.error`, divergences propagate.

    `mcp`: the tool providers for the MCP servers `agent.mcp` names (replayed or recorded, see `mcp_traffic.py`).
    """
    if scenario.agent.runner == "wire":
        return execute_wire(scenario, model, host)
    from castling.agents.agent import Agent

    config = scenario.agent
    backbone = build_backbone(config, model, model_host(scenario, host), api_key)
    agent = Agent(
        backbone,
        [*build_tools(scenario, http), *mcp],
        strategy=config.strategy or "tools",
        system=config.system,
        max_steps=config.max_steps,
    )
    # Several user turns share one thread, as in a chat; a single task runs without one, as before.
    thread = "scenario" if scenario.user_turns else None
    results = []
    try:
        with agent:
            for text in [scenario.task, *scenario.user_turns]:
                results.append(agent.run(text, thread_id=thread))
    except ScenarioDivergence:
        raise
    except CastlingError as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}")
    return _outcome(results)


def _outcome(results: list[RunResult]) -> Outcome:
    """The outcome of a run's user turns: the last answer, with tool calls and usage summed over all of them."""
    return Outcome(
        final_answer=results[-1].answer,
        steps=sum(r.usage.calls for r in results),
        tool_calls=[
            ToolCallOutcome(name=c.name, arguments=dict(c.arguments), result=c.result, error=c.error)
            for r in results
            for c in r.tool_calls
        ],
        prompt_tokens=sum(r.usage.prompt_tokens for r in results),
        completion_tokens=sum(r.usage.completion_tokens for r in results),
        model_ms=round(sum(r.usage.total_seconds for r in results) * 1000, 3),
        stop_reason=results[-1].stop_reason,
    )


def execute_wire(scenario: Scenario, model: AnyTransport, host: str | None) -> Outcome:
    """Converted traffic: resend each recorded request and read the answer with the ollama client's types."""
    if not isinstance(model, httpx.BaseTransport):
        raise TypeError("wire scenarios need a sync transport")
    if scenario.agent.server == "openai":
        return execute_openai_wire(scenario, model, host)
    outcome = Outcome()
    with httpx.Client(transport=model, base_url=host or "http://127.0.0.1:11434") as client:
        for turn in scenario.model_turns:
            body = turn.request.body
            try:
                with client.stream("POST", "/api/chat", json=body) as response:
                    lines = [json.loads(line) for line in response.iter_lines() if line.strip()]
            except httpx.HTTPError as exc:
                outcome.error = f"cannot reach Ollama at {client.base_url}: {exc}"
                return outcome
            if response.status_code != 200:
                outcome.error = f"HTTP {response.status_code}: {lines[-1] if lines else ''}"
                return outcome
            content, calls = _read_reply(lines, outcome)
            outcome.final_answer, outcome.steps = content, outcome.steps + 1
            outcome.tool_calls += calls
    return outcome


def _read_reply(lines: list[Any], outcome: Outcome) -> tuple[str, list[ToolCallOutcome]]:
    """One streamed reply's text and tool calls; the usage of its last chunk is added to `outcome`."""
    import ollama

    content = ""
    calls: list[ToolCallOutcome] = []
    for line in lines:
        if "error" in line and "message" not in line:
            continue  # the server failed mid-stream (recorded as it happened): the reply is what came before
        chunk = ollama.ChatResponse.model_validate(line)
        content += chunk.message.content or ""
        calls += [
            ToolCallOutcome(name=c.function.name, arguments=dict(c.function.arguments))
            for c in chunk.message.tool_calls or ()
        ]
        if chunk.done:
            outcome.prompt_tokens += chunk.prompt_eval_count or 0
            outcome.completion_tokens += chunk.eval_count or 0
            outcome.model_ms += (chunk.total_duration or 0) / 1e6
            outcome.stop_reason = chunk.done_reason or ""
    return content, calls


def execute_openai_wire(scenario: Scenario, model: httpx.BaseTransport, host: str | None) -> Outcome:
    """Converted OpenAI-wire traffic: resend each recorded request to its recorded path, read SSE or JSON."""
    from castling.scenarios.openai_wire import parse_sse, summarise_openai

    outcome = Outcome()
    with httpx.Client(transport=model, base_url=_origin(host)) as client:
        for turn in scenario.model_turns:
            try:
                response = client.post(turn.request.path, json=turn.request.body)
            except httpx.HTTPError as exc:
                outcome.error = f"cannot reach the server at {client.base_url}: {exc}"
                return outcome
            if response.status_code != 200:
                outcome.error = f"HTTP {response.status_code}: {response.text[:300]}"
                return outcome
            sse = "event-stream" in response.headers.get("content-type", "")
            summary = summarise_openai(parse_sse(response.content) if sse else [response.json()])
            outcome.final_answer, outcome.steps = summary.content, outcome.steps + 1
            outcome.tool_calls += [
                ToolCallOutcome(name=c["name"], arguments=_dict(c["arguments"])) for c in summary.tool_calls
            ]
            outcome.prompt_tokens += summary.prompt_tokens
            outcome.completion_tokens += summary.completion_tokens
            outcome.stop_reason = summary.done_reason
    return outcome


def _origin(host: str | None) -> str:
    # The recorded path already holds the API prefix (`/v1/chat/completions`): keep only scheme, host and port.
    url = httpx.URL(host or REPLAY_OPENAI_HOST)
    return f"{url.scheme}://{url.netloc.decode()}"


def _dict(arguments: Any) -> dict[str, Any]:
    return dict(arguments) if isinstance(arguments, dict) else {"_raw": arguments}
