"""`castling record --server openai --api-key KEY`: recording against a keyed OpenAI-compatible server.

A real loopback server (`tests.loopback.KeyedServer`) answers only requests carrying the key. The key goes out as
a header; the recording keeps no request headers of the model's traffic, so the file never holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from castling.cli.main import main
from castling.scenarios.store import load
from tests.loopback import KEY, MODEL, KeyedServer, serving

TASK = "What is the capital of Italy?"
WHAT_TO_DO = "pass the key it expects with --api-key KEY or $CASTLING_API_KEY"


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASTLING_API_KEY", raising=False)


@pytest.fixture
def keyed() -> Iterator[tuple[KeyedServer, str]]:
    server = KeyedServer(replies=1)
    with serving(server) as url:
        yield server, url


def record(url: str, out: Path, *key: str) -> int:
    return main(["record", TASK, "-m", MODEL, "--server", "openai", "--host", url, *key, "-o", str(out)])


def test_the_recorded_file_replays_and_does_not_hold_the_key(keyed, tmp_path, capsys):
    server, url = keyed
    out = tmp_path / "italy.yaml"
    assert record(url, out, "--api-key", KEY) == 0
    assert set(server.authorizations) == {f"Bearer {KEY}"}
    assert load(out).model_turns[0].summary.content == "The capital of Italy is Rome."
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [out] and KEY not in out.read_text(encoding="utf-8")
    assert KEY not in capsys.readouterr().out
    assert main(["replay", str(out)]) == 0  # offline: no server, no key


def test_the_key_comes_from_castling_api_key_never_openai_api_key(keyed, tmp_path, monkeypatch):
    server, url = keyed
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")  # a real OpenAI key must not go to a GPU box
    monkeypatch.setenv("CASTLING_API_KEY", KEY)
    assert record(url, tmp_path / "italy.yaml") == 0
    assert set(server.authorizations) == {f"Bearer {KEY}"}


def test_without_the_key_nothing_is_saved_and_the_error_says_what_to_do(keyed, tmp_path, monkeypatch, capsys):
    server, url = keyed
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the right key, in the variable castling never reads
    out = tmp_path / "italy.yaml"
    assert record(url, out) == 1
    assert not out.exists() and set(server.authorizations) == {""}
    err = capsys.readouterr().err
    refused = f"The server at {url} refused the request (401: Invalid API key)"
    assert err == f"castling record: {refused}: {WHAT_TO_DO}; nothing saved\n"


def test_a_wrong_key_is_not_shown_even_when_the_server_quotes_it(keyed, tmp_path, capsys):
    _, url = keyed
    assert record(url, tmp_path / "italy.yaml", "--api-key", "sk-wrong-0000") == 1
    err = capsys.readouterr().err
    assert "(401: Incorrect API key provided: '<the API key>')" in err and "sk-wrong-0000" not in err


def test_a_key_for_an_ollama_server_is_refused_with_what_to_do(tmp_path, capsys):
    out = tmp_path / "italy.yaml"
    assert main(["record", TASK, "-m", "qwen3:8b", "--api-key", KEY, "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "castling record: --api-key is for an OpenAI-compatible server: add --server openai\n"
    )
    assert not out.exists()
