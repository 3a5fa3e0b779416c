"""Checkpointers named by URL, resume after a server error, and many async runs on one PostgreSQL pool."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from castling import Agent, CheckpointerUnavailable, ConfigError, Decision, OllamaResponseError, Qwen, tool
from castling.agents.checkpoint_postgres import PoolSettings, PostgresCheckpointer
from castling.testing import ScriptedOllama

CALLS: list[str] = []


@tool
def record(note: str) -> str:
    """Record a note.

    Args:
        note: the note
    """
    CALLS.append(note)
    return "recorded"


@pytest.fixture(autouse=True)
def _no_calls():
    CALLS.clear()


def make(server: ScriptedOllama, checkpointer, **kwargs) -> Agent:
    return Agent(Qwen("qwen3:8b", transport=server.transport), tools=[record], checkpointer=checkpointer, **kwargs)


def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'threads.db'}"


def test_a_server_error_after_a_tool_resumes_without_running_the_tool_again(tmp_path):
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("record", {"note": "once"})])
    server.add_error(500, "model runner crashed")
    server.add_reply("Recorded it.")
    with make(server, sqlite_url(tmp_path)) as agent:
        with pytest.raises(OllamaResponseError):
            agent.run("Record 'once'.", thread_id="t")

        result = agent.resume(thread_id="t")

    assert CALLS == ["once"]
    assert result.answer == "Recorded it."
    assert [call.name for call in result.tool_calls] == ["record"]


async def test_a_new_agent_on_the_same_sqlite_file_resumes_async(tmp_path):
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("record", {"note": "once"})])
    server.add_error(500, "model runner crashed")
    server.add_reply("Recorded it.")
    async with make(server, sqlite_url(tmp_path)) as agent:
        with pytest.raises(OllamaResponseError):
            await agent.arun("Record 'once'.", thread_id="t")

    async with make(server, sqlite_url(tmp_path)) as fresh:
        result = await fresh.aresume(thread_id="t")

    assert CALLS == ["once"]
    assert result.answer == "Recorded it."


def test_resuming_a_finished_run_returns_it_without_a_model_call(tmp_path):
    server = ScriptedOllama()
    server.add_reply("Done.")
    with make(server, sqlite_url(tmp_path)) as agent:
        agent.run("Hi", thread_id="t")
        again = agent.resume(thread_id="t")
    assert again.answer == "Done."
    assert len(server.requests) == 1


def test_resuming_an_unknown_thread_says_what_to_check(tmp_path):
    with make(ScriptedOllama(), sqlite_url(tmp_path)) as agent, pytest.raises(ConfigError) as caught:
        agent.resume(thread_id="nope")
    assert "No run to resume on thread 'nope'" in str(caught.value)
    assert "same checkpointer" in str(caught.value)


def test_resuming_an_approval_pause_needs_the_decision(tmp_path):
    server = ScriptedOllama()
    server.add_reply(tool_calls=[("record", {"note": "risky"})])
    server.add_reply("Done.")
    with make(server, sqlite_url(tmp_path), approve=["record"]) as agent:
        list(agent.stream("Record 'risky'.", thread_id="t"))
        with pytest.raises(ConfigError) as caught:
            agent.resume(thread_id="t")
        assert "waits for approval of record" in str(caught.value)
        assert CALLS == []

        result = agent.resume(thread_id="t", decision=Decision("run"))

    assert CALLS == ["risky"]
    assert result.answer == "Done."


def test_an_unknown_checkpointer_url_is_refused_without_showing_a_password():
    with pytest.raises(ConfigError) as caught:
        make(ScriptedOllama(), "mysql://bob:secret@db/threads")
    assert "secret" not in str(caught.value)
    assert "postgresql://user@host:port/db" in str(caught.value)


def test_an_unreachable_database_says_where_and_hides_the_password():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://bob:secret@127.0.0.1:{port}/threads"
    server = ScriptedOllama()
    with make(server, url) as agent, pytest.raises(CheckpointerUnavailable) as caught:
        agent.run("Hi", thread_id="t")
    message = str(caught.value)
    assert f"postgresql://bob@127.0.0.1:{port}/threads" in message
    assert "secret" not in message
    assert server.requests == []  # nothing was sent to the model


async def test_many_async_runs_share_a_small_pool_without_mixing_threads(postgres_url):
    server = ScriptedOllama()
    runs = 30
    for _ in range(runs):
        server.add_reply("ok")
    saver = PostgresCheckpointer(postgres_url, PoolSettings(max_size=3))
    agent = make(server, saver)
    threads = [f"many-{uuid.uuid4().hex[:8]}-{i}" for i in range(runs)]
    try:
        results = await asyncio.gather(*(agent.arun(f"question {i}", thread_id=t) for i, t in enumerate(threads)))
    finally:
        await saver.aclose()
    for i, result in enumerate(results):
        assert [m.text for m in result.messages] == [f"question {i}", "ok"]


def test_sync_and_async_runs_of_one_agent_share_the_postgres_thread(postgres_url):
    server = ScriptedOllama()
    server.add_reply("one")
    server.add_reply("two")
    thread = f"mixed-{uuid.uuid4().hex[:8]}"
    with make(server, postgres_url) as agent:
        agent.run("first", thread_id=thread)

        async def second():
            result = await agent.arun("second", thread_id=thread)
            await agent.aclose()
            return result

        result = asyncio.run(second())
    assert [m.text for m in result.messages] == ["first", "one", "second", "two"]


def test_connections_dropped_by_the_server_are_replaced_before_the_next_run(postgres_url):
    import psycopg

    server = ScriptedOllama()
    server.add_reply("one")
    server.add_reply("two")
    thread = f"dropped-{uuid.uuid4().hex[:8]}"
    saver = PostgresCheckpointer(postgres_url, PoolSettings(min_size=1, max_size=1))
    with make(server, saver) as agent:
        agent.run("first", thread_id=thread)
        with psycopg.connect(postgres_url, autocommit=True) as admin:  # what an idle cut-off or a failover does
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'castling' AND pid <> pg_backend_pid()"
            ).fetchone()
        assert ended is not None and ended[0] >= 2  # the pooled connection and the thread-lock connection

        result = agent.run("second", thread_id=thread)
    saver.close()
    assert [m.text for m in result.messages] == ["first", "one", "second", "two"]
