"""Helpers that write scripted (constructed, not recorded) plan-strategy replies for ScriptedOllama."""

import json

from castling import tool

CITIES = {"Paris": "rain, 14 C", "Lyon": "sun, 22 C"}


@tool
def weather(city: str) -> str:
    """Current weather in a city."""
    return CITIES[city]


def plan(*steps, answer=None):
    return json.dumps({"steps": [{"goal": g, "tool": t} for g, t in steps], "answer": answer})


def act(tool_name=None, answer=None, **arguments):
    return json.dumps({"tool": tool_name, "arguments": arguments, "answer": answer})


def done(answer):
    return json.dumps({"done": True, "answer": answer, "steps": []})


def more(*steps):
    return json.dumps({"done": False, "answer": None, "steps": [{"goal": g, "tool": t} for g, t in steps]})


PARIS = ("Get the weather in Paris", "weather")
LYON = ("Get the weather in Lyon", "weather")


def script_paris_lyon(server, answer="Go to Lyon: sunny and 22 C, while Paris has rain."):
    """Plan two steps, run both, answer."""
    server.add_reply(plan(PARIS, LYON))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(LYON))
    server.add_reply(act("weather", city="Lyon"))
    server.add_reply(done(answer))
    return answer


def last_user(request):
    return [m for m in request["messages"] if m["role"] == "user"][-1]["content"]
