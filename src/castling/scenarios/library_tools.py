"""Deterministic tools for the scenario library and for tests.

Each is built by name through `make_tool(name, http_transport)`; `python` and `fetch` are the built-in tools
(`castling.tools.BUILTIN_TOOLS`, by their scenario names), which raise `ToolUnavailable` when they cannot load.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from langchain_core.tools import BaseTool

from castling.errors import ConfigError
from castling.scenarios.names import not_registered, registered_tool
from castling.tools.builtins import BUILTIN_TOOLS, BuiltinTool
from castling.tools.decorator import tool

_WEATHER = {
    "paris": (18, "sunny"),
    "lyon": (21, "cloudy"),
    "berlin": (12, "rainy"),
    "tokyo": (24, "humid"),
    "madrid": (27, "clear"),
}
_CAPITALS = {"france": "Paris", "germany": "Berlin", "japan": "Tokyo", "spain": "Madrid"}


class ToolUnavailable(ConfigError):
    """A scenario needs a tool that is not installed here (the runner skips the scenario)."""


@tool
def weather(city: str) -> str:
    """Current weather for a city.

    Args:
        city: the city name, e.g. Paris.
    """
    temperature, sky = _WEATHER.get(city.strip().lower(), (15, "overcast"))
    return f"{city}: {temperature} °C, {sky}"


@tool
def capital_of(country: str) -> str:
    """The capital city of a country.

    Args:
        country: the country name in English.
    """
    return _CAPITALS.get(country.strip().lower(), f"unknown country: {country}")


@tool
def celsius_to_fahrenheit(celsius: float) -> str:
    """Convert a temperature from Celsius to Fahrenheit.

    Args:
        celsius: the temperature in degrees Celsius.
    """
    return f"{celsius * 9 / 5 + 32:g} °F"


def page_title_tool(transport: Any) -> BaseTool:
    """A small HTTP tool (`page_title(url)`) whose traffic goes through `transport`: the library's web task.

    `transport` is an httpx transport, a function wrapping the real network transport (recording), or None.
    """
    if transport is not None and not isinstance(transport, httpx.BaseTransport) and callable(transport):
        transport = transport(httpx.HTTPTransport())

    @tool
    def page_title(url: str) -> str:
        """Fetch a web page and return its <title>.

        Args:
            url: the page address (http or https).
        """
        with httpx.Client(transport=transport, timeout=10.0, follow_redirects=True) as client:
            response = client.get(url)
        if response.status_code >= 400:
            return f"Error: HTTP {response.status_code} for {url}"
        match = re.search(r"<title>(.*?)</title>", response.text, re.IGNORECASE | re.DOTALL)
        return match.group(1).strip() if match else "(the page has no title)"

    return page_title


def _builtin(name: str, builtin: BuiltinTool, http_transport: Any) -> BaseTool:
    try:
        return builtin.make(transport=http_transport)
    except (ImportError, LookupError) as exc:
        raise ToolUnavailable(f"the built-in tool {name!r} is not available here ({exc}).") from exc
    except ConfigError as exc:  # e.g. the sandbox needs bubblewrap, which this machine lacks
        raise ToolUnavailable(f"the built-in tool {name!r} cannot start here: {exc}") from exc


_LIBRARY: dict[str, Callable[[Any], BaseTool]] = {
    "weather": lambda _: weather,
    "capital_of": lambda _: capital_of,
    "celsius_to_fahrenheit": lambda _: celsius_to_fahrenheit,
    "page_title": page_title_tool,
}
HTTP_TOOLS = (*(b.scenario_name for b in BUILTIN_TOOLS.values() if b.takes_transport), "page_title")
"""Tools whose HTTP traffic is recorded and replayed."""


def _scenario_builtin(name: str) -> BuiltinTool | None:
    """The built-in tool scenario files call `name` (`python`, `fetch`), read from the one table."""
    return next((builtin for builtin in BUILTIN_TOOLS.values() if builtin.scenario_name == name), None)


def make_tool(name: str, http_transport: Any = None) -> BaseTool:
    """The tool a scenario names: a built-in (`python`, `fetch`), a library tool, or one registered by code."""
    builtin = _scenario_builtin(name)
    if builtin is not None:
        return _builtin(name, builtin, http_transport)
    if name in _LIBRARY:
        return _LIBRARY[name](http_transport)
    registered = registered_tool(name)
    if registered is None:
        known = ", ".join([*(builtin.scenario_name for builtin in BUILTIN_TOOLS.values()), *_LIBRARY])
        raise ConfigError(f"Unknown scenario tool (built in: {known}): {not_registered('tool', name)}")
    return registered
