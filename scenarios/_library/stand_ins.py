"""Stand-ins for tools that cannot start here, and the constructed web server (build time only).

The real `python` and `fetch` tools run when they can start (bubblewrap for `python`); otherwise these stand-ins,
with the documented name and arguments, are used *while building only*: such scenarios are skipped at replay time,
and `--scenario-mode=update` re-records them later.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
from langchain_core.tools import BaseTool, StructuredTool

from castling.scenarios import execute as execute_module
from castling.scenarios.format import Scenario
from castling.scenarios.library_tools import ToolUnavailable

EXAMPLE_HTML = "<!doctype html><html><head><title>Example Domain</title></head><body><h1>Example Domain</h1>" + (
    "<p>This domain is for use in illustrative examples in documents.</p></body></html>"
)


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


def with_stand_ins(http: Any) -> Callable[..., list[BaseTool]]:
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
