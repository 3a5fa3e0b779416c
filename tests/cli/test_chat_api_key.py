"""`castling chat --server openai --api-key KEY`: a keyed OpenAI-compatible server (vLLM `--api-key`, a gateway).

A real loopback server (`tests.loopback.KeyedServer`) answers only requests carrying the key, and quotes a key
it refuses (as OpenAI's API does). The chat sends the key as a header and writes it nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from castling.cli import chat_command
from castling.cli.main import build_parser
from castling.scenarios.runner import run_file
from castling.scenarios.store import load
from tests.cli.chatdriver import Chat
from tests.loopback import KEY, MODEL, KeyedServer, serving

WHAT_TO_DO = "pass the key it expects with --api-key KEY or $CASTLING_API_KEY"
REAL_NETWORK = SimpleNamespace(transport=None)
"""The chat driver's server: no transport, so the chat talks to the loopback server over real HTTP."""


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASTLING_API_KEY", raising=False)


@pytest.fixture
def keyed() -> Iterator[tuple[KeyedServer, str]]:
    server = KeyedServer(["Rome is the capital of Italy.", "About 2.8 million people."])
    with serving(server) as url:
        yield server, url


def keyed_chat(url: str, **options: str) -> Chat:
    chat = Chat(REAL_NETWORK, host=url, model=MODEL, **options)
    chat.options = chat.options.model_copy(update={"server": "openai"})  # `server=` is the driver's own argument
    return chat


def files_under(*folders: Path) -> list[Path]:
    return [path for folder in folders for path in folder.rglob("*") if path.is_file()]


async def test_the_key_is_sent_and_written_nowhere(keyed, data_dir, tmp_path):
    server, url = keyed
    chat = keyed_chat(url, api_key=KEY)
    saved = tmp_path / "saved" / "italy.yaml"
    assert await chat.run("capital of Italy?\r", f"/save {saved}\r", "/exit\r") == 0
    assert "Rome is the capital of Italy." in chat.text
    assert set(server.authorizations) == {f"Bearer {KEY}"}
    written = files_under(data_dir, saved.parent)
    assert saved in written and len(written) >= 3  # the scenario, the sessions index, the checkpoints
    assert [p for p in written if KEY.encode() in p.read_bytes()] == []
    assert KEY not in chat.text and KEY not in repr(chat.options)
    assert load(saved).agent.server == "openai"
    assert run_file(saved).status == "passed"  # the saved session replays, on the OpenAI wire, without any key


async def test_the_key_comes_from_castling_api_key_never_openai_api_key(keyed, monkeypatch):
    server, url = keyed
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")  # a real OpenAI key must not go to a GPU box
    monkeypatch.setenv("CASTLING_API_KEY", KEY)
    chat = keyed_chat(url)
    assert await chat.run("capital of Italy?\r", "/exit\r") == 0
    assert "Rome is the capital of Italy." in chat.text
    assert set(server.authorizations) == {f"Bearer {KEY}"}


async def test_without_the_key_the_chat_says_what_to_do_in_one_line(keyed, monkeypatch):
    server, url = keyed
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the right key, in the variable castling never reads
    chat = keyed_chat(url)
    assert await chat.run("capital of Italy?\r", "/exit\r") == 1
    assert chat.text == f"error: The server at {url} refused the request (401: Invalid API key): {WHAT_TO_DO}.\n"
    assert set(server.authorizations) == {""}


async def test_a_wrong_key_is_not_shown_even_when_the_server_quotes_it(keyed):
    server, url = keyed
    chat = keyed_chat(url, api_key="sk-wrong-0000")
    assert await chat.run("capital of Italy?\r", "/exit\r") == 1
    assert "refused the request (401: Incorrect API key provided: '<the API key>')" in chat.text
    assert WHAT_TO_DO in chat.text and "sk-wrong-0000" not in chat.text


async def test_a_key_rotated_mid_session_is_one_error_and_the_conversation_survives():
    server = KeyedServer(["Rome is the capital of Italy.", "About 2.8 million people."])
    answer = server.handle

    def rotate_after_the_first_answer(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        if request.url.path.endswith("/chat/completions") and response.status_code == 200:
            server.key = "sk-rotated"  # the operator restarts vLLM with a new --api-key
        return response

    server.transport = httpx.MockTransport(rotate_after_the_first_answer)
    with serving(server) as url:
        chat = keyed_chat(url, api_key=KEY)
        assert await chat.run("capital of Italy?\r", "and its population?\r", "/exit\r") == 0
        assert "Rome is the capital of Italy." in chat.text
        assert f"refused the request (401: Incorrect API key provided: '<the API key>'): {WHAT_TO_DO}" in chat.text
        assert KEY not in chat.text
        resumed = keyed_chat(url, api_key="sk-rotated", resume="")  # `castling chat --resume --api-key NEW`
        assert await resumed.run("and its population?\r", "/exit\r") == 0
    assert "About 2.8 million people." in resumed.text
    said = [(m["role"], m["content"]) for m in server.scripted.requests[-1]["messages"] if m["role"] != "system"]
    assert said == [
        ("user", "capital of Italy?"),
        ("assistant", "Rome is the capital of Italy."),
        ("user", "and its population?"),  # the refused turn's question is kept: the chat loses nothing
        ("user", "and its population?"),
    ]


def test_a_key_for_an_ollama_server_is_refused_with_what_to_do(capsys):
    args = build_parser().parse_args(["chat", "--api-key", KEY])
    assert args.server == "ollama"
    assert chat_command.run(args) == 2
    err = capsys.readouterr().err
    assert err == "castling chat: --api-key is for an OpenAI-compatible server: add --server openai\n"


def test_the_help_names_the_variable_the_key_is_read_from(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["chat", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps the help text
    assert "--api-key KEY bearer key for an OpenAI-compatible server" in shown
    assert "(default: $CASTLING_API_KEY; never $OPENAI_API_KEY)" in shown
