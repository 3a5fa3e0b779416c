"""Replay is offline: a tool's own connection to a non-loopback address fails the scenario, before any packet.

Every test here runs with tripwires in place of the real socket functions (`tripwire` fixture): the guard
wraps whatever is installed when it starts, so if it let a call through, the tripwire would record it and
raise instead of the network being reached. Nothing in this module can contact 192.0.2.1.
"""

import _socket
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from castling.agents.agent import Agent
from castling.backbones.qwen import Qwen
from castling.cli.main import main
from castling.scenarios.format import AgentConfig, Recording, Scenario
from castling.scenarios.live import ServerLive
from castling.scenarios.names import allow
from castling.scenarios.offline import NetworkBlocked, is_loopback, offline
from castling.scenarios.runner import record, run_file
from castling.testing import ScriptedOllama
from tests.scenarios import net_tools

NET_TOOLS = ("stand_in", "own_client", "own_async_client", "swallowing_client")


@pytest.fixture(autouse=True)
def _net_tools_allowed() -> None:
    """The scenarios below name these test tools by path, as a project's `castling_tools` ini option would."""
    for name in NET_TOOLS:
        allow(f"tests.scenarios.net_tools:{name}", "tool")


NAMES = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr")
METHODS = ("connect", "connect_ex", "sendto")


@pytest.fixture
def tripwire(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the real socket entry points with recorders that never touch the network."""
    calls: list[str] = []

    def trip(name: str) -> Callable[..., Any]:
        def tripped(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"tripwire: the real socket.{name} was reached")

        return tripped

    for name in METHODS:
        monkeypatch.setattr(socket.socket, name, trip(name))
    for name in NAMES:
        monkeypatch.setattr(socket, name, trip(name))
    return calls


def test_connect_is_refused_in_the_patched_connect_before_the_real_one(tripwire: list[str]):
    with offline("status-check", "scenarios/status.yaml") as guard, socket.socket() as sock:
        with pytest.raises(NetworkBlocked) as refused:
            sock.connect(("192.0.2.1", 80))
        with pytest.raises(NetworkBlocked):
            sock.connect_ex(("192.0.2.1", 443))
    assert tripwire == []  # refused before the real connect
    assert refused.traceback[-1].name == "_refuse" and refused.traceback[-2].name == "_check_address"
    message = str(refused.value)
    assert "scenario 'status-check' tried to connect to 192.0.2.1:80 during replay" in message
    assert "replay is offline" in message and "recording: scenarios/status.yaml" in message
    assert len(guard.blocked) == 2 and refused.value.kind == "network"


def test_udp_send_and_name_lookups_are_refused(tripwire: list[str]):
    with offline("dns") as guard, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(NetworkBlocked, match="send to 192.0.2.53:53"):
            udp.sendto(b"query", ("192.0.2.53", 53))
        with pytest.raises(NetworkBlocked, match="resolve example.invalid"):
            socket.getaddrinfo("example.invalid", 80)
        with pytest.raises(NetworkBlocked, match="resolve example.invalid"):
            socket.gethostbyname("example.invalid")
    assert tripwire == [] and len(guard.blocked) == 3


def test_loopback_and_local_sockets_pass_through_to_the_original(tripwire: list[str]):
    with offline("local"):
        with socket.socket() as sock, pytest.raises(AssertionError, match="tripwire"):
            sock.connect(("127.0.0.1", 11434))
        with pytest.raises(AssertionError, match="tripwire"):
            socket.getaddrinfo("localhost", 11434)
    assert tripwire == ["connect", "getaddrinfo"]
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "localhost", "::ffff:127.0.0.1"))
    assert not any(is_loopback(h) for h in ("192.0.2.1", "10.0.0.1", "::ffff:192.0.2.1", "example.org", None))


def test_guard_restores_the_socket_module_and_nests():
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo
    with offline("outer"):
        with offline("inner") as inner:
            patched = socket.socket.connect
        assert socket.socket.connect is patched  # still guarded while the outer block runs
    assert (socket.socket.connect, socket.getaddrinfo) == (real_connect, real_lookup)
    assert inner.blocked == []


def test_audit_hook_catches_code_that_bypasses_the_socket_module():
    # A numeric address: even unguarded, getaddrinfo answers locally without sending anything.
    with offline("raw"), pytest.raises(NetworkBlocked, match="resolve 192.0.2.1"):
        _socket.getaddrinfo("192.0.2.1", 80)
    assert _socket.getaddrinfo("192.0.2.1", 80)  # the hook is idle once no replay is active


def _scenario_with(tool: str, tmp_path: Path) -> Path:
    """Record with the harmless stand-in, then point the file at `tool` (same name, schema and description)."""
    server = ScriptedOllama("qwen3:8b")
    server.add_reply(tool_calls=[("service_status", {"url": net_tools.TARGET})])
    server.add_reply("The service is up.")
    scenario = Scenario(
        id="status-check",
        task="Is the service up?",
        agent=AgentConfig(model="qwen3:8b", tools=["tests.scenarios.net_tools:stand_in"], think=False),
        recording=Recording(source="constructed"),
    )
    path = tmp_path / "scenarios" / "status-check.yaml"
    assert record(scenario, path, ServerLive(server.transport)).saved
    data = yaml.safe_load(path.read_text())
    data["agent"]["tools"] = [f"tests.scenarios.net_tools:{tool}"]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


@pytest.mark.parametrize(
    ("tool", "refused"),
    [
        ("own_client", "resolve 192.0.2.1"),  # httpx sync: socket.create_connection looks the address up first
        ("own_async_client", "connect to 192.0.2.1:80"),  # anyio skips the lookup of an IP literal
        ("swallowing_client", "resolve 192.0.2.1"),
    ],
)
def test_replay_fails_when_a_tool_opens_its_own_connection(
    tool: str, refused: str, tmp_path: Path, tripwire: list[str]
):
    report = run_file(_scenario_with(tool, tmp_path))
    assert report.status == "diverged" and report.divergence is not None
    assert report.divergence.kind == "network"
    assert f"scenario 'status-check' tried to {refused} during replay; replay is offline" in report.message()
    assert tripwire == []


def test_update_mode_does_not_re_record_a_network_divergence(tmp_path: Path, tripwire: list[str]):
    path = _scenario_with("own_client", tmp_path)
    before = path.read_text()
    report = run_file(path, "update")  # re-recording would run the tool unguarded, against the network
    assert report.status == "diverged" and report.divergence is not None and report.divergence.kind == "network"
    assert "not re-recorded: the tool must use the scenario's transport" in report.message()
    assert path.read_text() == before and tripwire == []


def test_replay_command_reports_the_offline_failure(
    tmp_path: Path, tripwire: list[str], capsys: pytest.CaptureFixture[str]
):
    path = _scenario_with("own_client", tmp_path)
    assert main(["replay", str(path)]) == 1
    captured = capsys.readouterr()
    assert "replay is offline" in captured.err and "✘ DIV" in captured.out and "network" in captured.out
    assert tripwire == []


def test_pytest_items_fail_offline(tmp_path: Path, pytester: pytest.Pytester, tripwire: list[str]):
    path = _scenario_with("own_client", tmp_path)
    target = pytester.path / "scenarios" / path.name
    target.parent.mkdir()
    target.write_text(path.read_text())
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest("scenarios")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*tried to resolve 192.0.2.1 during replay; replay is offline*"])
    assert tripwire == []


def test_scenario_fixture_fails_the_block(tmp_path: Path, tripwire: list[str], scenario: Callable[..., Any]):
    path = _scenario_with("swallowing_client", tmp_path)

    def my_test() -> None:
        with scenario(path) as s:  # the tool swallows the refusal; the next model turn then differs
            Agent(Qwen("qwen3:8b", think=False), [net_tools.swallowing_client]).run(s.task)

    with pytest.raises(NetworkBlocked, match="tried to resolve 192.0.2.1 during replay; replay is offline"):
        my_test()  # the refusal is reported as the cause, not the divergence that followed it
    assert tripwire == []
