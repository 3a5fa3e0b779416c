"""The web an eval run's tools see when the task's file carries `tool_http`: those pages, not the network.

A fetch-and-answer task measures the model, not the day's web: the file's recorded (or constructed) exchanges
are served by method and URL (and body, for other methods than GET), as often as the run asks. Anything else is a
404 that says so, which the model reads as a tool result. A file without `tool_http` keeps the real network.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from castling.scenarios.format import HttpExchange, Scenario
from castling.scenarios.store import read_blob


class RecordedWeb(httpx.MockTransport):
    """An httpx transport (sync and async) answering from `scenario.tool_http`; blobs are read from `folder`."""

    def __init__(self, scenario: Scenario, folder: Path) -> None:
        self.scenario, self.folder = scenario, folder
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        for exchange in self.scenario.tool_http:
            if self._matches(exchange, request):
                response = exchange.response
                body = (
                    read_blob(self.folder, response.body_file) if response.body_file else (response.body or "").encode()
                )
                headers = {k: v for k, v in response.headers.items() if k.lower() != "content-encoding"}
                return httpx.Response(response.status, headers=headers, content=body)
        known = ", ".join(sorted({e.request.url for e in self.scenario.tool_http}))
        return httpx.Response(
            404,
            headers={"content-type": "text/plain; charset=utf-8"},
            text=f"{request.method} {request.url} is not one of this task's pages (it has: {known}).",
        )

    @staticmethod
    def _matches(exchange: HttpExchange, request: httpx.Request) -> bool:
        recorded = exchange.request
        if recorded.method.upper() != request.method or httpx.URL(recorded.url) != request.url:
            return False
        return request.method == "GET" or (recorded.body or "").encode() == request.content
