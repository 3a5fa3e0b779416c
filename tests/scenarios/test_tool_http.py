from pathlib import Path

import httpx
import pytest

from castling.scenarios.errors import UnrecordedHttpRequest
from castling.scenarios.format import AgentConfig, HttpExchange, HttpRequest, HttpResponse, Recording, Scenario
from castling.scenarios.live import ServerLive
from castling.scenarios.replayer import HttpReplay
from castling.scenarios.runner import record, run_file
from castling.scenarios.store import load
from castling.testing import ScriptedOllama

BIG_PAGE = "<html><head><title>Big Page</title></head><body>" + "<p>lorem ipsum</p>" * 600 + "</body></html>"


def test_large_bodies_go_to_blobs_and_replay(tmp_path: Path):
    server = ScriptedOllama("qwen3:8b")
    server.add_reply(tool_calls=[("page_title", {"url": "https://big.test/"})])
    server.add_reply("The title is Big Page.")
    site = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/html"}, text=BIG_PAGE)
    )
    scenario = Scenario(
        id="big",
        task="Title of https://big.test/ ?",
        agent=AgentConfig(model="qwen3:8b", think=False, tools=["page_title"]),
        recording=Recording(source="constructed"),
    )
    path = tmp_path / "big.yaml"
    assert record(scenario, path, ServerLive(server.transport, site)).saved
    exchange = load(path).tool_http[0]
    assert exchange.response.body is None and exchange.response.body_file
    assert exchange.response.body_file.startswith("blobs/sha256-") and exchange.response.body_file.endswith(".html")
    assert (tmp_path / exchange.response.body_file).read_text() == BIG_PAGE
    assert BIG_PAGE not in path.read_text()
    report = run_file(path)
    assert report.status == "passed", report.message()
    assert report.outcome is not None and report.outcome.tool_calls[0].result == "Big Page"


def _post_scenario() -> Scenario:
    exchange = HttpExchange(
        id="h0",
        request=HttpRequest(method="POST", url="https://api.test/search", body='{"q": "paris"}'),
        response=HttpResponse(status=200, body='{"hits": 3}'),
    )
    return Scenario(id="post", task="t", recording=Recording(source="constructed"), tool_http=[exchange])


def test_tool_http_matches_method_url_and_body(tmp_path: Path):
    replay = HttpReplay(_post_scenario(), tmp_path / "post.yaml")
    with httpx.Client(transport=replay) as client:
        with pytest.raises(UnrecordedHttpRequest, match="POST https://api.test/search"):
            client.post("https://api.test/search", content='{"q": "lyon"}')
        assert client.post("https://api.test/search", content='{"q": "paris"}').json() == {"hits": 3}
        with pytest.raises(UnrecordedHttpRequest, match="or was already used"):
            client.post("https://api.test/search", content='{"q": "paris"}')
    assert replay.unused() == [] and len(replay.divergences) == 2
