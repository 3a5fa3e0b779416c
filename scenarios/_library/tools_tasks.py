"""The tasks, and the `tools` strategy's scripted replies (`qwen/`, `llama/`): one script per task.

A script queues on a `ScriptedOllama` the replies the model gives, turn by turn; `family` lets a task reply the way
that backbone family writes (Qwen's `<tool_call>` text, Llama's JSON calls).
"""

from __future__ import annotations

from collections.abc import Callable

from castling.scenarios.format import Expectation, ToolNotCalledCheck
from castling.testing import ScriptedOllama

from .common import NO_ERROR, answer, called, steps

Script = Callable[[ScriptedOllama, str], None]
# (id, description, task, tools, script, expectations)
Task = tuple[str, str, str, list[str], Script, list[Expectation]]


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


TASKS: list[Task] = [
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
        "Code execution with the built-in sandboxed python tool: on replay its cell re-runs in the sandbox. "
        "Constructed traffic: re-record with --scenario-mode=update (no model needed).",
        "What is 2**100 exactly? Use Python.",
        ["python"],
        code,
        [answer("", contains="1267650600228229401496703205376"), called("run_python"), NO_ERROR],
    ),
    (
        "web-fetch",
        "Web fetch with the built-in fetch tool: on replay it reads the recorded page (tool_http), offline. "
        "Constructed traffic: re-record with --scenario-mode=update (no model needed).",
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
