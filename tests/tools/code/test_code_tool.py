import asyncio
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool

from castling.errors import ConfigError
from castling.tools.code import SandboxUnavailable, UnsandboxedWarning, python

from .code_helpers import FAST, child_pids, require_bwrap, run_cell


def test_public_factory_is_exported_from_castling_tools():
    from castling.tools import python as exported

    assert exported is python


async def test_state_persists_between_cells_and_last_expression_is_shown(run):
    assert await run("import math\nx = 40") == "[done] no output"
    assert await run("print('sum:', x + 2)\nmath.sqrt(x + 9)") == "[stdout]\nsum: 42\n[value]\n7.0"


async def test_tool_is_a_basetool_with_one_code_argument(sandbox):
    assert isinstance(sandbox, BaseTool)
    assert sandbox.name == "run_python"
    assert list(sandbox.args) == ["code"]


async def test_traceback_is_trimmed_to_the_users_code(run):
    await run("def f(n):\n    return 1 / n")
    out = await run("f(0)")
    assert "[error]" in out and "ZeroDivisionError: division by zero" in out
    assert '<cell 1>", line 2, in f' in out and "return 1 / n" in out
    assert "worker.py" not in out


async def test_syntax_errors_are_reported(run):
    out = await run("def broken(:\n  pass")
    assert "SyntaxError" in out and "worker.py" not in out


async def test_stderr_and_sys_exit_are_reported_and_the_session_continues(run):
    out = await run("import sys\nprint('warn', file=sys.stderr)\nsys.exit(3)")
    assert "[stderr]\nwarn" in out and "sys.exit()" in out
    assert await run("1 + 1") == "[value]\n2"


async def test_files_created_and_changed_in_the_workspace_are_listed(run):
    out = await run("import os\nprint(os.getcwd())\nopen('data.csv', 'w').write('a,b\\n1,2\\n')")
    assert "/workspace" in out and "[files] created: data.csv (8 B)" in out
    out = await run("open('data.csv', 'a').write('3,4\\n')")
    assert "changed: data.csv (12 B)" in out


async def test_open_matplotlib_figures_are_saved_as_files(run):
    # The sandbox's system Python may not have matplotlib: stand in a minimal pyplot with the same API.
    fake = (
        "import sys, types\n"
        "class Fig:\n"
        "    def savefig(self, path): open(path, 'wb').write(b'PNG!')\n"
        "figs = {1: Fig(), 2: Fig()}\n"
        "plt = types.ModuleType('matplotlib.pyplot')\n"
        "plt.get_fignums = lambda: sorted(figs)\n"
        "plt.figure = lambda n: figs[n]\n"
        "plt.close = lambda which: figs.clear()\n"
        "sys.modules['matplotlib.pyplot'] = plt\n"
    )
    out = await run(fake)
    assert "[figures] .figures/cell1-figure1.png, .figures/cell1-figure2.png" in out
    assert "created: .figures/cell1-figure1.png (4 B)" in out
    assert await run("open('.figures/cell1-figure2.png', 'rb').read()") == "[value]\nb'PNG!'"
    assert "[figures]" not in await run("1")  # closed after saving
    out = await run("figs[3] = None  # a figure that cannot be saved\n'done'")
    assert "[value]\n'done'" in out and "saving the open matplotlib figures failed: AttributeError" in out


async def test_sessions_are_isolated_by_thread_id(run):
    await run("secret = 'A'", thread="alice")
    assert "NameError" in await run("secret", thread="bob")
    assert await run("secret", thread="alice") == "[value]\n'A'"


async def test_concurrent_calls_in_one_session_run_one_after_the_other(run):
    first = asyncio.create_task(run("import time\ntime.sleep(0.5)\na = 1"))
    await asyncio.sleep(0.1)
    assert await run("a") == "[value]\n1"
    assert await first == "[done] no output"


async def test_without_thread_id_one_default_worker_is_shared(sandbox):
    await sandbox.ainvoke({"code": "k = 7"})
    assert await sandbox.ainvoke({"code": "k"}) == "[value]\n7"


def test_sync_invoke_works_and_state_survives_the_calling_threads():
    require_bwrap()
    tool = python(**FAST)
    try:
        assert tool.invoke({"code": "x = 6 * 7"}) == "[done] no output"
        # Each call below comes from a thread that ends afterwards: the sandbox must not die with it.
        results: list[str] = []
        for _ in range(2):
            thread = threading.Thread(target=lambda: results.append(tool.invoke({"code": "x"})))
            thread.start()
            thread.join()
        assert results == ["[value]\n42", "[value]\n42"]
    finally:
        tool.close()


def test_a_new_event_loop_per_call_keeps_the_session():
    require_bwrap()
    tool = python(**FAST)
    try:
        asyncio.run(run_cell(tool, "y = 'kept'"))
        assert asyncio.run(run_cell(tool, "y")) == "[value]\n'kept'"
    finally:
        tool.close()


async def test_tool_call_input_returns_an_artifact_with_files(run, sandbox):
    message = await sandbox.ainvoke(
        {"type": "tool_call", "id": "c1", "name": "run_python", "args": {"code": "open('a.txt','w').write('x')"}},
        {"configurable": {"thread_id": "art"}},
    )
    assert message.artifact["status"] == "ok"
    assert message.artifact["files"]["created"] == [["a.txt", 1]]


async def test_cancelling_the_call_interrupts_the_cell_and_keeps_state(sandbox):
    await run_cell(sandbox, "x = 5")
    task = asyncio.create_task(run_cell(sandbox, "import time\ntime.sleep(100)"))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await run_cell(sandbox, "x") == "[value]\n5"


async def test_cancelling_a_cell_that_ignores_sigint_kills_it_and_the_tool_recovers(sandbox):
    task = asyncio.create_task(
        run_cell(sandbox, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile 1: pass")
    )
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    out = await run_cell(sandbox, "print('alive')")
    assert "new interpreter" in out and "alive" in out


async def test_aclose_stops_every_worker():
    require_bwrap()
    before = child_pids()
    tool = python(**FAST)
    await run_cell(tool, "1", thread="a")
    await run_cell(tool, "1", thread="b")
    assert len(child_pids() - before) == 2
    await tool.aclose()
    assert child_pids() - before == set()


async def test_host_workspace_directory_receives_files():
    require_bwrap()
    # Not under pytest's tmp_path: as root that is mode 0700, which the sandbox uid could not traverse.
    base = Path(tempfile.mkdtemp(prefix="castling-test-"))
    base.chmod(0o755)
    work = base / "work"
    tool = python(workspace=work, **FAST)
    try:
        out = await run_cell(tool, "open('result.txt', 'w').write('from the sandbox')")
        assert "created: result.txt" in out
        assert (work / "result.txt").read_text() == "from the sandbox"
    finally:
        await tool.aclose()
        shutil.rmtree(base)


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root host drops to another uid")
def test_workspace_the_sandbox_uid_cannot_reach_is_refused(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ConfigError, match="not reachable by the sandbox uid"):
        python(workspace=private / "work")


def test_missing_bubblewrap_is_refused_with_install_instructions():
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap") as info:
        python(bwrap_path="/nonexistent/bwrap")
    assert isinstance(info.value, ConfigError)
    assert "sandbox='process'" in str(info.value)


def test_bad_settings_raise_config_error():
    with pytest.raises(ConfigError, match="memory"):
        python(memory="a lot")
    with pytest.raises(ConfigError, match="no_such_option"):
        python(no_such_option=1)


async def test_process_mode_is_opt_in_warns_and_still_enforces_the_timeout():
    with pytest.warns(UnsandboxedWarning, match="network access and reads of host files are not contained"):
        tool = python(sandbox="process", bwrap_path="/nonexistent/bwrap", **FAST)
    assert "NOT sandboxed" in tool.description
    try:
        await run_cell(tool, "x = 3")
        out = await run_cell(tool, "while True: pass")
        assert "[interrupted]" in out
        assert await run_cell(tool, "import os\nos.getcwd().startswith('/tmp/castling-python-'), x") == (
            "[value]\n(True, 3)"
        )
        if os.geteuid() == 0:
            assert await run_cell(tool, "os.getuid()") == "[value]\n65534"
    finally:
        await tool.aclose()


async def test_in_a_langgraph_tool_node_sessions_follow_the_thread_id(sandbox):
    from langchain_core.messages import AIMessage
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode

    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode([sandbox]))
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    app = graph.compile()

    async def call(code: str, thread: str):
        tool_call = {"name": "run_python", "args": {"code": code}, "id": "call-1"}
        state = await app.ainvoke(
            {"messages": [AIMessage("", tool_calls=[tool_call])]}, {"configurable": {"thread_id": thread}}
        )
        return state["messages"][-1]

    await call("x = 2", "s1")
    message = await call("x * 21", "s1")
    assert message.content == "[value]\n42" and message.artifact["status"] == "ok"
    assert "NameError" in (await call("x", "s2")).content


def _system_python_has_matplotlib() -> bool:
    done = subprocess.run(["/usr/bin/python3", "-c", "import matplotlib, numpy"], capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.skipif(not _system_python_has_matplotlib(), reason="the sandbox's system Python has no matplotlib")
async def test_real_matplotlib_figures_are_saved_as_png_under_the_memory_limit():
    require_bwrap()
    tool = python(**{**FAST, "timeout": 30, "memory": "1GiB"})
    try:
        out = await run_cell(tool, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('t')")
        assert "[figures] .figures/cell1-figure1.png" in out and ".config" not in out and ".cache" not in out
        magic = await run_cell(tool, "open('.figures/cell1-figure1.png', 'rb').read(8)")
        assert magic == "[value]\nb'\\x89PNG\\r\\n\\x1a\\n'"
    finally:
        await tool.aclose()


def test_a_world_readable_venv_can_be_mounted_and_used():
    require_bwrap()
    base = Path(tempfile.mkdtemp(prefix="castling-venv-"))
    base.chmod(0o755)
    try:
        venv = base / "venv"
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True)
        (package,) = venv.glob("lib/python3*/site-packages")  # the system Python's version, not ours
        (package / "only_in_venv.py").write_text("WHERE = 'venv'\n")
        (package / "only_in_venv.py").chmod(0o644)
        tool = python(extra_ro_binds=(str(venv),), python_executable=str(venv / "bin" / "python"), **FAST)
        try:
            assert tool.invoke({"code": "import only_in_venv\nonly_in_venv.WHERE"}) == "[value]\n'venv'"
        finally:
            tool.close()
    finally:
        shutil.rmtree(base)
