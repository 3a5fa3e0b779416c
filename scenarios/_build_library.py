"""Regenerate the scenario library: constructed traffic recorded against ScriptedOllama, plus real traffic.

    .venv/bin/python scenarios/_build_library.py          # everything
    .venv/bin/python scenarios/_build_library.py plan     # only scenarios/llama-plan/ (the plan strategy)
    .venv/bin/python scenarios/_build_library.py tags     # only the discovery scenario

Every task is recorded for both backbones by running the real agent against `castling.testing.ScriptedOllama`
through the scenario recorder, so the files hold exactly what castling sends and what an Ollama server
streams back; they say `source: constructed`. The built-in `python` and `fetch` tools run for real when they can
start here (bubblewrap for `python`); otherwise stand-ins with the documented name and arguments are used *while
building only*, such scenarios are skipped at replay time, and `--scenario-mode=update` re-records them later.
Each task is recorded three times: qwen3:8b and llama3.1:8b with the `tools` strategy (`qwen/`, `llama/`), and
llama3.1:8b with its default `plan` strategy (`llama-plan/`, same `task_id`s, so `castling compare` lines them up).
The plan strategy's replies are JSON for the `format` schema each request sends; they are built in ONE place,
`PlanReplies` (one builder per reply kind) plus `plan_run` (the order of the calls): see there when the plan
strategy's wire format changes.
The files under `live/` are converted from the real recordings in ../shared/fixtures (`source: live`);
`discovery/` serves a real /api/tags listing (fixture 06) with a constructed chat turn (`python ... tags`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel

from castling.agents.plan_schemas import FinalAnswer, Plan, Replan, StepAction
from castling.scenarios import execute as execute_module
from castling.scenarios.format import (
    AgentConfig,
    AnswerCheck,
    Expectation,
    ModelTurn,
    Recording,
    Scenario,
    ServerExchange,
    ToolCalledCheck,
    ToolNotCalledCheck,
    WireRequest,
    WireResponse,
    json_schema_text,
)
from castling.scenarios.library_tools import ToolUnavailable
from castling.scenarios.live import ServerLive
from castling.scenarios.recorder import summarise
from castling.scenarios.runner import record, replay
from castling.scenarios.store import load, save
from castling.testing import ScriptedOllama

ROOT = Path(__file__).resolve().parent
FIXTURES = Path("/work/shared/fixtures")
BACKBONES = {"qwen": "qwen3:8b", "llama": "llama3.1:8b"}
EXAMPLE_HTML = "<!doctype html><html><head><title>Example Domain</title></head><body><h1>Example Domain</h1>" + (
    "<p>This domain is for use in illustrative examples in documents.</p></body></html>"
)
Script = Callable[[ScriptedOllama, str], None]


def answer(text: str, *, contains: str | list[str]) -> Expectation:
    return Expectation(final_answer=AnswerCheck(contains=contains))


def called(name: str, **args: Any) -> Expectation:
    return Expectation(tool_called=ToolCalledCheck(name=name, args=args or None))


def steps(limit: int) -> Expectation:
    return Expectation(max_steps=limit)


NO_ERROR = Expectation(no_error=True)


# -- tasks: (id, description, task, tools, script, expectations) ---------------------------------------------------
def single(server: ScriptedOllama, family: str) -> None:
    server.add_reply(
        thinking="The user wants the weather in Paris." if family == "qwen" else "",
        tool_calls=[("weather", {"city": "Paris"})],
    )
    server.add_reply("It is 18 °C and sunny in Paris right now.")


def parallel(server: ScriptedOllama, family: str) -> None:
    server.add_reply(tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})])
    server.add_reply("Lyon is warmer: 21 °C and cloudy, against 18 °C and sunny in Paris.")


def code(server: ScriptedOllama, family: str) -> None:
    server.add_reply(tool_calls=[("run_python", {"code": "print(2**100)"})])
    server.add_reply("2**100 = 1267650600228229401496703205376")


def fetch_page(server: ScriptedOllama, family: str) -> None:
    server.add_reply(tool_calls=[("fetch", {"url": "https://example.org/"})])
    server.add_reply("The page title is “Example Domain”.")


def page_title(server: ScriptedOllama, family: str) -> None:
    server.add_reply(tool_calls=[("page_title", {"url": "https://example.org/"})])
    server.add_reply("The title of https://example.org/ is “Example Domain”.")


def multi_step(server: ScriptedOllama, family: str) -> None:
    server.add_reply(tool_calls=[("capital_of", {"country": "Japan"})])
    server.add_reply(tool_calls=[("weather", {"city": "Tokyo"})])
    server.add_reply(tool_calls=[("celsius_to_fahrenheit", {"celsius": 24})])
    server.add_reply("Tokyo, the capital of Japan, is at 24 °C, which is 75.2 °F, and humid.")


def no_tool(server: ScriptedOllama, family: str) -> None:
    server.add_reply("Rome.")


def malformed(server: ScriptedOllama, family: str) -> None:
    if family == "qwen":
        # an unreadable <tool_call> block: the agent asks the model to repeat the call (repair node)
        server.add_reply('<tool_call>\n{"name": "weather", "arguments": {"city": "Berlin"\n</tool_call>')
        server.add_reply(tool_calls=[("weather", {"city": "Berlin"})])
    else:
        # a structured call with a wrong argument name, then a call written as JSON text (recovered from the text)
        server.add_reply(tool_calls=[("weather", {"location": "Berlin"})])
        server.add_reply('{"name": "weather", "parameters": {"city": "Berlin"}}')
    server.add_reply("It is 12 °C and rainy in Berlin.")


def french(server: ScriptedOllama, family: str) -> None:
    server.add_reply(tool_calls=[("weather", {"city": "Madrid"})])
    server.add_reply("Il fait 27 °C à Madrid aujourd'hui, avec un ciel dégagé.")


TASKS: list[tuple[str, str, str, list[str], Script, list[Expectation]]] = [
    (
        "weather-single",
        "One tool call, then an answer.",
        "What's the weather in Paris right now?",
        ["weather"],
        single,
        [answer("", contains="18 °C"), called("weather", city="Paris"), steps(3), NO_ERROR],
    ),
    (
        "weather-parallel",
        "Two calls in one reply, run together.",
        "Compare the weather in Paris and in Lyon.",
        ["weather"],
        parallel,
        [
            answer("", contains=["Lyon", "21 °C"]),
            called("weather", city="Paris"),
            called("weather", city="Lyon"),
            steps(2),
            NO_ERROR,
        ],
    ),
    (
        "code-exec",
        "Code execution with the sandboxed python tool. Built with a stand-in run_python (the real tool had not landed): when it does, re-record with --scenario-mode=update (constructed: no model needed).",
        "What is 2**100 exactly? Use Python.",
        ["python"],
        code,
        [answer("", contains="1267650600228229401496703205376"), called("run_python"), NO_ERROR],
    ),
    (
        "web-fetch",
        "Web fetch with the built-in fetch tool. Built with a stand-in fetch (the real tool had not landed): when it does, re-record with --scenario-mode=update (constructed: no model needed).",
        "What is the title of https://example.org/ ?",
        ["fetch"],
        fetch_page,
        [answer("", contains="Example Domain"), called("fetch", url="https://example.org/"), NO_ERROR],
    ),
    (
        "web-title",
        "A tool's HTTP traffic recorded and replayed (tool_http).",
        "What is the title of the page https://example.org/ ?",
        ["page_title"],
        page_title,
        [answer("", contains="Example Domain"), called("page_title", url="https://example.org/"), NO_ERROR],
    ),
    (
        "multi-step",
        "Three dependent calls before the answer.",
        "How warm is it in the capital of Japan, in Fahrenheit?",
        ["capital_of", "weather", "celsius_to_fahrenheit"],
        multi_step,
        [
            answer("", contains="75.2 °F"),
            called("capital_of", country="Japan"),
            called("weather", city="Tokyo"),
            called("celsius_to_fahrenheit", celsius=24),
            steps(5),
            NO_ERROR,
        ],
    ),
    (
        "no-tool",
        "Tools are offered but none is needed.",
        "What is the capital of Italy? Answer in one word.",
        ["weather"],
        no_tool,
        [
            answer("", contains="Rome"),
            Expectation(tool_not_called=ToolNotCalledCheck(name="weather")),
            steps(1),
            NO_ERROR,
        ],
    ),
    (
        "malformed-recovered",
        "A malformed call the agent recovers from.",
        "What's the weather in Berlin?",
        ["weather"],
        malformed,
        [answer("", contains="12 °C"), called("weather", city="Berlin"), steps(4), NO_ERROR],
    ),
    (
        "non-english",
        "A task in French; the answer stays in French.",
        "Quel temps fait-il à Madrid aujourd'hui ?",
        ["weather"],
        french,
        [answer("", contains=["27 °C", "Madrid"]), called("weather", city="Madrid"), NO_ERROR],
    ),
]


# -- the plan strategy (llama-plan/): its replies are built HERE and nowhere else ---------------------------------
@dataclass(frozen=True)
class Step:
    """One planned step and the tool call the executor makes for it (`tool=None`: the executor writes `result`)."""

    goal: str
    tool: str | None
    args: dict[str, Any] = field(default_factory=dict)
    result: str = ""


class PlanReplies:
    """Scripted replies in the exact shape the plan strategy asks for: JSON for the `format` schema it sends.

    One builder per reply kind: `plan`/`direct_answer` (planner, `Plan`), `action` (executor, `StepAction`),
    `replan_next`/`replan_done` (re-planner, `Replan`), `final` (responder, `FinalAnswer`), and `cut` (any reply
    stopped by `num_predict`, `done_reason: "length"`). Each validates its JSON against the strategy's pydantic
    model before queueing it, so a schema change fails the build here, at the builder to update. If the wire
    format changes, edit these builders (and `plan_run` if the order of calls changes), then run
    `python scenarios/_build_library.py plan`.
    """

    def __init__(self, server: ScriptedOllama) -> None:
        self.server = server

    def plan(self, *steps: Step) -> None:
        self._send(Plan, {"steps": [self._step(s) for s in steps], "answer": None})

    def direct_answer(self, text: str) -> None:
        """The planner's reply when no tool is needed: no steps, the answer itself."""
        self._send(Plan, {"steps": [], "answer": text})

    def action(self, step: Step) -> None:
        self._send(StepAction, self._action(step))

    def replan_next(self, *remaining: Step) -> None:
        """The re-planner after a step that left work: not done, the steps still to do."""
        self._send(Replan, {"done": False, "answer": None, "steps": [self._step(s) for s in remaining]})

    def replan_done(self, answer: str) -> None:
        self._send(Replan, {"done": True, "answer": answer, "steps": []})

    def final(self, answer: str) -> None:
        self._send(FinalAnswer, {"answer": answer})

    def cut(self, step: Step, keep: int = 24) -> None:
        """The executor's action for `step`, cut off after `keep` characters by the output limit."""
        content = json.dumps(self._action(step), ensure_ascii=False)[:keep]
        self.server.add_reply(content, done_reason="length")

    @staticmethod
    def _step(step: Step) -> dict[str, Any]:
        return {"goal": step.goal, "tool": step.tool}

    @staticmethod
    def _action(step: Step) -> dict[str, Any]:
        if step.tool is None:
            return {"tool": None, "arguments": {}, "answer": step.result}
        return {"tool": step.tool, "arguments": step.args, "answer": None}

    def _send(self, schema: type[BaseModel], reply: dict[str, Any]) -> None:
        schema.model_validate(reply)  # the reply must be what the strategy would accept
        self.server.add_reply(json.dumps(reply, ensure_ascii=False))


def plan_run(replies: PlanReplies, steps: list[Step], answer: str) -> None:
    """The calls of an untroubled plan run: plan; then per step the executor and the re-planner; the answer last."""
    replies.plan(*steps)
    for index, step in enumerate(steps):
        replies.action(step)
        rest = steps[index + 1 :]
        if rest:
            replies.replan_next(*rest)
        else:
            replies.replan_done(answer)


PlanScript = Callable[[PlanReplies], None]
WEATHER_PARIS = Step("Get the current weather in Paris.", "weather", {"city": "Paris"})
BERLIN = Step("Get the current weather in Berlin.", "weather", {"city": "Berlin"})


def plan_multi_step(replies: PlanReplies) -> None:
    capital = Step("Find the capital of Japan.", "capital_of", {"country": "Japan"})
    weather = Step("Get the current weather in that capital.", "weather", {"city": "Tokyo"})
    convert = Step("Convert its temperature to Fahrenheit.", "celsius_to_fahrenheit", {"celsius": 24})
    answer = "Tokyo, the capital of Japan, is at 24 °C, which is 75.2 °F, and humid."
    plan_run(replies, [capital, weather, convert], answer)  # the re-planner keeps the remaining goals as they are


def plan_malformed(replies: PlanReplies) -> None:
    # A plan naming a tool that does not exist (re-planned with the tool list), then an executor reply cut off
    # by num_predict (`done_reason: "length"`, retried once): both recovered, the run answers.
    replies.plan(Step("Get the current weather in Berlin.", "get_weather"))
    replies.plan(BERLIN)
    replies.cut(BERLIN)
    replies.action(BERLIN)
    replies.replan_done("It is 12 °C and rainy in Berlin.")


# task_id -> (description, script, most model calls)
PLAN_TASKS: dict[str, tuple[str, PlanScript, int]] = {
    "weather-single": (
        "Plan strategy: a one-step plan, the executor calls the tool, the re-planner answers.",
        lambda r: plan_run(r, [WEATHER_PARIS], "It is 18 °C and sunny in Paris right now."),
        3,
    ),
    "weather-parallel": (
        "Plan strategy: the two cities as two plan steps, one after the other.",
        lambda r: plan_run(
            r,
            [WEATHER_PARIS, Step("Get the current weather in Lyon.", "weather", {"city": "Lyon"})],
            "Lyon is warmer: 21 °C and cloudy, against 18 °C and sunny in Paris.",
        ),
        5,
    ),
    "code-exec": (
        "Plan strategy: one step running code in the sandboxed python tool (re-run at replay).",
        lambda r: plan_run(
            r,
            [Step("Compute 2**100 exactly with Python.", "run_python", {"code": "print(2**100)"})],
            "2**100 = 1267650600228229401496703205376",
        ),
        3,
    ),
    "web-fetch": (
        "Plan strategy: one step with the built-in fetch tool (its HTTP traffic replayed from tool_http).",
        lambda r: plan_run(
            r,
            [Step("Fetch https://example.org/ and read its title.", "fetch", {"url": "https://example.org/"})],
            "The page title is “Example Domain”.",
        ),
        3,
    ),
    "web-title": (
        "Plan strategy: one step with a tool whose HTTP traffic is recorded and replayed (tool_http).",
        lambda r: plan_run(
            r,
            [Step("Get the title of https://example.org/.", "page_title", {"url": "https://example.org/"})],
            "The title of https://example.org/ is “Example Domain”.",
        ),
        3,
    ),
    "multi-step": (
        "Plan strategy: three dependent steps; the re-planner keeps the rest of the plan after each.",
        plan_multi_step,
        7,
    ),
    "no-tool": (
        "Plan strategy: tools offered, none needed: an empty plan with the answer, one model call, no tool.",
        lambda r: r.direct_answer("Rome."),
        1,
    ),
    "malformed-recovered": (
        "Plan strategy: a plan naming a tool that does not exist (re-planned with the tool list), then an executor "
        "reply cut by done_reason 'length' (retried once); both recovered.",
        plan_malformed,
        5,
    ),
    "non-english": (
        "Plan strategy: a task in French; the plan and the answer stay in French.",
        lambda r: plan_run(
            r,
            [Step("Obtenir la météo actuelle à Madrid.", "weather", {"city": "Madrid"})],
            "Il fait 27 °C à Madrid aujourd'hui, avec un ciel dégagé.",
        ),
        3,
    ),
}


# checks only the plan versions have (the tool the first plan named must never run)
PLAN_EXTRA = {"malformed-recovered": [Expectation(tool_not_called=ToolNotCalledCheck(name="get_weather"))]}


def plan_expectations(task_id: str, expectations: list[Expectation], calls: int) -> list[Expectation]:
    """The tools-strategy checks with the plan's own bound on model calls (planner + executor/re-planner per step)."""
    return [e for e in expectations if e.max_steps is None] + PLAN_EXTRA.get(task_id, []) + [steps(calls)]


# -- stand-ins for tools that land from other branches (build time only) ----------------------------------------
def _run_python(code: str) -> str:
    """Run Python code in a sandbox and return its output.

    Args:
        code: the Python source to run.
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout + done.stderr


def _fetch_stand_in(transport: httpx.BaseTransport) -> BaseTool:
    def fetch(url: str, start_index: int = 0, max_length: int = 5000) -> str:
        """Fetch a URL and return its content as text.

        Args:
            url: the address to fetch.
            start_index: where to start in the text (for long pages).
            max_length: most characters to return.
        """
        with httpx.Client(transport=transport) as client:
            return client.get(url).text[start_index : start_index + max_length]

    return StructuredTool.from_function(fetch, parse_docstring=True)


def _with_stand_ins(http: Any) -> Callable[..., list[BaseTool]]:
    original = execute_module.build_tools

    def build(scenario: Scenario, transport: Any) -> list[BaseTool]:
        tools: list[BaseTool] = []
        for name in scenario.agent.tools:
            only = scenario.model_copy(update={"agent": scenario.agent.model_copy(update={"tools": [name]})})
            try:
                tools += original(only, transport)  # the real tool when it can start here
            except ToolUnavailable:
                if name == "python":
                    tools.append(StructuredTool.from_function(_run_python, name="run_python", parse_docstring=True))
                elif name == "fetch":
                    tools.append(_fetch_stand_in(transport))
                else:
                    raise
        return tools

    return build


def example_org(request: httpx.Request) -> httpx.Response:
    if request.url.host == "example.org" and request.url.path == "/":
        return httpx.Response(200, headers={"content-type": "text/html; charset=UTF-8"}, text=EXAMPLE_HTML)
    return httpx.Response(
        404, headers={"content-type": "text/plain; charset=utf-8"}, text="not in the constructed script"
    )  # as re-recorded files have it


# (folder, backbone, model, strategy)
CONFIGS = [
    ("qwen", "qwen", "qwen3:8b", "tools"),
    ("llama", "llama", "llama3.1:8b", "tools"),
    ("llama-plan", "llama", "llama3.1:8b", "plan"),
]


def build_constructed(folders: set[str] | None = None) -> None:
    original = execute_module.build_tools
    execute_module.build_tools = _with_stand_ins(None)  # type: ignore[assignment]
    try:
        for folder, family, model, strategy in CONFIGS:
            if folders is not None and folder not in folders:
                continue
            capabilities = ("completion", "tools", "thinking") if family == "qwen" else ("completion", "tools")
            for task_id, description, task, tools, script, expectations in TASKS:
                server = ScriptedOllama(model, capabilities=capabilities)
                if strategy == "plan":
                    description, plan_script, calls = PLAN_TASKS[task_id]
                    plan_script(PlanReplies(server))
                    expectations = plan_expectations(task_id, expectations, calls)
                else:
                    script(server, family)
                scenario = Scenario(
                    id=f"{folder}-{task_id}",
                    task_id=task_id,
                    description=description,
                    tags=[family, strategy, "constructed"] if strategy == "plan" else [family, "constructed"],
                    task=task,
                    agent=AgentConfig(backbone=family, model=model, strategy=strategy, tools=tools, max_steps=6),
                    recording=Recording(source="constructed"),
                    expectations=expectations,
                )
                path = ROOT / folder / f"{task_id}.yaml"
                report = record(scenario, path, ServerLive(server.transport, httpx.MockTransport(example_org)))
                print(f"{report.status:8} {path.relative_to(ROOT)} {report.message()}")
                assert report.saved, report.message()
                assert not server.pending, f"{path}: {server.pending} scripted replies unused"
                check = replay(load(path), path)  # the file as written replays (real tools, offline)
                assert check.ok, check.message()
    finally:
        execute_module.build_tools = original  # type: ignore[assignment]


# -- real traffic -------------------------------------------------------------------------------------------------
def live_scenario(
    ident: str,
    task: str,
    model: str,
    turns: list[tuple[dict[str, Any], WireResponse]],
    provenance: str,
    recorded_at: str,
    expectations: list[Expectation],
    clients: dict[str, str],
) -> None:
    model_turns = []
    for index, (body, response) in enumerate(turns):
        chunks = response.chunks if response.chunks is not None else [response.body]
        model_turns.append(
            ModelTurn(turn=index, request=WireRequest(body=body), response=response, summary=summarise(chunks))
        )
    scenario = Scenario(
        id=ident,
        task_id=ident,
        description="Real traffic, resent as recorded through the replay transport and read with the ollama client.",
        tags=["live", "converted"],
        task=task,
        agent=AgentConfig(runner="wire", backbone="llama", model=model),
        recording=Recording(source="live", recorded_at=recorded_at, provenance=provenance, client_versions=clients),
        model_turns=model_turns,
        expectations=expectations,
    )
    path = ROOT / "live" / f"{ident}.yaml"
    save(scenario, path, schema_ref="../scenario.schema.json")
    report = replay(scenario, path)
    print(f"{report.status:8} {path.relative_to(ROOT)} {report.message()}")
    assert report.ok, report.message()


def build_live() -> None:
    cassette = yaml.safe_load((FIXTURES / "10_openllmetry_llama3_apichat_ndjson_stream.yaml").read_text())
    exchange = cassette["interactions"][0]
    body = json.loads(exchange["request"]["body"])
    chunks = [json.loads(line) for line in exchange["response"]["body"]["string"].splitlines() if line.strip()]
    live_scenario(
        "openllmetry-llama3-joke-stream",
        body["messages"][0]["content"],
        "llama3",
        [(body, WireResponse(chunks=chunks))],
        "traceloop/openllmetry @ 93429cfb : packages/opentelemetry-instrumentation-ollama/tests/cassettes/test_chat/"
        "test_ollama_streaming_chat_with_events_with_content.yaml (Apache-2.0)",
        chunks[0]["created_at"],
        [answer("", contains="OpenTelemetry"), NO_ERROR],
        {"ollama-python": "0.2.0"},
    )
    dotnet = json.loads((FIXTURES / "11_dotnet_extensions_llama3.1_apichat_exchanges.json").read_text())
    checks = {
        "BasicRequestResponse_NonStreaming": [answer("", contains="Hello!")],
        "BasicRequestResponse_Streaming": [answer("", contains="Hello! How are you today?")],
        "MultipleMessages_NonStreaming": [answer("", contains="computer program")],
        "FunctionCallContent_NonStreaming": [called("GetPersonAge", personName="Alice")],
        "FunctionResultContent_NonStreaming": [answer("", contains="42")],
    }
    for item in dotnet["exchanges"]:
        name = item["name"]
        request = item["request"]
        if "response_ndjson" in item:
            response = WireResponse(chunks=item["response_ndjson"])
        else:
            response = WireResponse(content_type="application/json; charset=utf-8", body=item["response"])
        created = (response.chunks or [response.body])[0]["created_at"]
        ident = "dotnet-llama3.1-" + name.replace("_", "-").lower()
        task = next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user")
        live_scenario(
            ident,
            task,
            request["model"],
            [(request, response)],
            "dotnet/extensions @ d892c518 : test/Libraries/Microsoft.Extensions.AI.Ollama.Tests/"
            f"OllamaChatClientTests.cs, test {name} (MIT)",
            created,
            [*checks[name], NO_ERROR],
            {"Microsoft.Extensions.AI.Ollama": "d892c518"},
        )


# -- a real /api/tags listing (fixture 06) as the discovery of a scenario --------------------------------------------
TAGS_PROVENANCE = (
    "/api/tags body: REAL traffic, meta-llama/llama-stack @ b12cd528 : tests/integration/recordings/responses/"
    "4a3a4447b16b.json (MIT), stored there as the ollama client's ListResponse (the client drops `name`) and "
    "unwrapped from `__data__` unchanged. /api/show capabilities (from the models' Ollama library pages) and the "
    "chat turn: constructed."
)
# What Ollama's /api/show reports for these families (not in the recording; llama-guard3 has no tool template).
SHOW_CAPABILITIES = {
    "llama3.2-vision": ["completion", "vision"],
    "llama3.2": ["completion", "tools"],
    "llama-guard3": ["completion"],
    "nomic-embed-text": ["embedding"],
    "all-minilm": ["embedding"],
}


def real_tags_body() -> dict[str, Any]:
    """Fixture 06 unwrapped: llama-stack stores pydantic responses as {"__type__": ..., "__data__": {...}}."""
    stored = json.loads((FIXTURES / "06_llamastack_ollama_apitags_listresponse.json").read_text())
    wrapped = stored["response"]["body"]
    assert wrapped["__type__"] == "ollama._types.ListResponse"
    body: dict[str, Any] = wrapped["__data__"]
    return body


def build_tags() -> None:
    body = real_tags_body()
    model = "llama3.2:3b"  # what `castling chat` picks from this listing (see tests/scenarios/test_real_tags.py)
    server = ScriptedOllama(model, capabilities=("completion", "tools"))
    server.add_reply("Hello! How can I help you today?", prompt_tokens=31, completion_tokens=10)
    scenario = Scenario(
        id="llamastack-tags-default-model",
        task_id="default-model",
        description="A real Ollama model listing (/api/tags) served as discovery; the REPL's default-model choice "
        "reads it. The chat turn is constructed.",
        tags=["llama", "converted", "discovery", "real-tags"],
        task="Say hello in one short sentence.",
        agent=AgentConfig(backbone="llama", model=model, strategy="tools", max_steps=4),
        recording=Recording(source="constructed"),
        expectations=[answer("", contains="Hello"), NO_ERROR],
    )
    path = ROOT / "discovery" / "llamastack-tags-default-model.yaml"
    report = record(scenario, path, ServerLive(server.transport))
    assert report.saved and report.scenario is not None, report.message()
    digest = next(m["digest"] for m in body["models"] if m["model"] == model)
    shows = []
    for entry in body["models"]:
        family = next(f for f in SHOW_CAPABILITIES if entry["model"].startswith(f + ":"))
        info = {"general.architecture": entry["details"]["family"]}
        if "completion" in SHOW_CAPABILITIES[family]:
            info[f"{entry['details']['family']}.context_length"] = 131072
        show = {"capabilities": SHOW_CAPABILITIES[family], "details": entry["details"], "model_info": info}
        shows.append(ServerExchange(path="/api/show", model=entry["model"], body=show))
    version = [e for e in report.scenario.server if e.path == "/api/version"]
    fresh = report.scenario.model_copy(
        update={
            "server": [*version, ServerExchange(path="/api/tags", body=body), *shows],
            "recording": report.scenario.recording.model_copy(
                update={"provenance": TAGS_PROVENANCE, "model_digest": "sha256:" + digest}
            ),
        }
    )
    save(fresh, path, schema_ref="../scenario.schema.json")
    check = replay(fresh, path)
    print(f"{check.status:8} {path.relative_to(ROOT)} {check.message()}")
    assert check.ok, check.message()


if __name__ == "__main__":
    if sys.argv[1:] == ["tags"]:  # only the discovery scenario (keeps the other files' timestamps)
        build_tags()
        raise SystemExit(0)
    if sys.argv[1:] == ["plan"]:  # only llama-plan/: after a change of the plan strategy's wire format
        build_constructed({"llama-plan"})
        raise SystemExit(0)
    (ROOT / "scenario.schema.json").write_text(json_schema_text())
    build_constructed()
    build_live()
    build_tags()
