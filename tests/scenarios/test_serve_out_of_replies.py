"""`castling serve --loose` past the file's last reply: a plain error for the client, a line on the serve console."""

import httpx
import pytest

from castling.scenarios.serve import ReplayServer
from castling.scenarios.store import load
from tests.scenarios.scenario_helpers import LIBRARY

SINGLE = LIBRARY / "qwen" / "weather-single.yaml"


def test_a_request_after_the_last_reply_is_a_plain_error_and_is_logged(capsys: pytest.CaptureFixture[str]):
    recorded = len(load(SINGLE).model_turns)
    server = ReplayServer(SINGLE, port=0, loose=True).start()
    try:
        body = {"model": "qwen3:8b", "messages": [{"role": "user", "content": "hi"}], "stream": False}
        answers = [httpx.post(f"{server.url}/api/chat", json=body, timeout=10) for _ in range(recorded + 1)]
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [200] * recorded + [500]
    error = answers[-1].json()["error"]
    assert error == (
        "no recorded reply left for this request: the scenario file (constructed recording) holds "
        f"{recorded} model replies, all already sent"
    )
    assert "castling serve: answered 500 to /api/chat: no recorded reply left" in capsys.readouterr().err


def test_one_reply_is_said_in_the_singular():
    from castling.scenarios.live import out_of_replies

    assert "holds 1 model reply, all already sent" in out_of_replies(1, "live")
