"""The plan strategy's version of each task (`llama-plan/`, same `task_id`s so `castling compare` lines them up)."""

from __future__ import annotations

from collections.abc import Callable

from castling.scenarios.format import Expectation, ToolNotCalledCheck

from .common import steps
from .plan_replies import PlanReplies, Step, plan_run

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
