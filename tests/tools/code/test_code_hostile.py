"""Hostile cells from the issue: each must be contained, and the tool must keep working afterwards.

Every test runs in the bwrap sandbox with a 2 s timeout and a 0.5 s grace period (see code_helpers.FAST).
"""

import asyncio
import os
import socket

import pytest

from castling.tools.code import python

from .code_helpers import FAST, require_bwrap, run_cell

PROCS = "import os\nsorted(int(p) for p in os.listdir('/proc') if p.isdigit())"
OUT_FD = "import os\nOUT = int(open('/proc/self/cmdline', 'rb').read().split(b'\\0')[5])\n"


async def assert_usable(run, keeps_state: bool) -> None:
    out = await run("'still here'")
    assert "[value]\n'still here'" in out
    assert ("new interpreter" not in out) == keeps_state


async def test_fork_count_is_bounded_and_children_are_gone_after_the_cell(run):
    code = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(500):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError as e:\n"
        "        print('fork failed:', e.strerror)\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
        "    n += 1\n"
        "n < 64"
    )
    out = await run(code)
    assert "fork failed: Resource temporarily unavailable" in out and "[value]\nTrue" in out
    assert await run(PROCS) == "[value]\n[1]"


async def test_fork_bomb_is_stopped_and_cleaned_up(run):
    out = await run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass")
    assert "[interrupted]" in out or "[killed]" in out
    assert await run(PROCS) in (
        "[value]\n[1]",
        "[note] this cell ran in a new interpreter: variables and imports from earlier cells are gone\n[value]\n[1]",
    )


@pytest.mark.parametrize(
    "stuck",
    [
        "while True: pass",
        "import time\ntime.sleep(10**6)",
        "import threading\nlock = threading.Lock()\nlock.acquire()\nlock.acquire()",
    ],
    ids=["busy-loop", "sleep", "deadlock"],
)
async def test_stuck_cell_is_interrupted_and_state_is_kept(run, stuck):
    await run("x = 1")
    out = await run(stuck)
    assert "[interrupted] the cell ran longer than the 2 s timeout" in out
    assert "KeyboardInterrupt" in out and '<cell 2>", line' in out  # where it was stuck
    assert await run("x") == "[value]\n1"


@pytest.mark.parametrize(
    "stubborn",
    [
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass",
        "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n        pass",
    ],
    ids=["sigint-ignored", "keyboardinterrupt-caught"],
)
async def test_cell_ignoring_the_interrupt_is_killed_and_the_next_cell_gets_a_fresh_worker(run, stubborn):
    await run("x = 1")
    out = await run(stubborn)
    assert "[killed]" in out and "variables and imports are lost" in out
    out = await run("x")
    assert "new interpreter" in out and "NameError" in out


async def test_c_call_that_never_checks_signals_is_killed_after_the_grace(run):
    out = await run("import hashlib\nhashlib.pbkdf2_hmac('sha256', b'x', b'y', 2**31 - 1)")
    assert "[killed]" in out
    await assert_usable(run, keeps_state=False)


async def test_huge_allocation_raises_memory_error(run):
    await run("x = 1")
    out = await run("bytearray(10 * 2**30)")
    assert "MemoryError" in out
    assert await run("x") == "[value]\n1"


async def test_gradual_memory_growth_stops_at_the_limit():
    require_bwrap()
    # Filling 512 MiB takes ~0.6 s here and several times that on a loaded machine, where FAST's 2 s timeout
    # interrupted the loop first (no MemoryError). With a timeout it cannot reach, only the memory limit stops it.
    tool = python(**{**FAST, "timeout": 120})
    try:
        out = await run_cell(tool, "chunks = []\nfor _ in range(100):\n    chunks.append(bytearray(32 * 2**20))")
        assert "MemoryError" in out and "[interrupted]" not in out, out
        # Bounded by RLIMIT_AS (512 MiB in these tests), far below the 3.2 GB the loop asked for; the session
        # survives with what fitted.
        assert await run_cell(tool, "len(chunks) < 16") == "[value]\nTrue"
        assert await run_cell(tool, "del chunks[:]\nimport resource\nresource.getrlimit(resource.RLIMIT_AS)") == (
            "[value]\n(536870912, 536870912)"
        )
    finally:
        await tool.aclose()


async def test_huge_print_is_capped_head_and_tail(run):
    out = await run("print('A' * 50_000_000)")
    assert out.startswith("[stdout]\nAAAA") and out.endswith("AAAA")
    assert "bytes cut, 50,000,001 bytes in total" in out
    assert len(out) < 21_000


async def test_500_mb_of_output_is_drained_and_capped():

    require_bwrap()
    tool = python(**{**FAST, "timeout": 30})
    try:
        out = await run_cell(
            tool, "import sys\nfor _ in range(500):\n    sys.stdout.write('A' * 1_000_000)\nprint('END')"
        )
    finally:
        await tool.aclose()
    assert "500,000,004 bytes in total" in out and out.endswith("AEND")
    assert len(out) < 21_000


async def test_endless_print_is_interrupted_with_capped_output(run):
    out = await run("while True:\n    print('x' * 100)")
    assert "[interrupted]" in out and "bytes cut" in out
    assert len(out) < 21_000
    await assert_usable(run, keeps_state=True)


async def test_invalid_utf8_output_is_replaced(run):
    out = await run("import os, sys\nos.write(1, b'bad \\xff\\xfe bytes\\n')\nsys.stdout.buffer.write(b'\\xc3(')")
    assert "bad \ufffd\ufffd bytes" in out and "\ufffd(" in out


async def test_host_secrets_are_not_visible(run):
    out = await run(
        "import os\n"
        "def probe(path):\n"
        "    try:\n"
        "        open(path, 'rb').read()\n"
        "        return 'READ'\n"
        "    except OSError as e:\n"
        "        return type(e).__name__\n"
        "[probe(p) for p in ('/etc/shadow', '/root/.ssh/id_rsa', os.path.expanduser('~/.ssh/id_rsa'), "
        "'/etc/hostname', '/home')] + [open('/etc/passwd').read().count('\\n')]"
    )
    assert out == (
        "[value]\n['FileNotFoundError', 'FileNotFoundError', 'FileNotFoundError', 'FileNotFoundError', "
        "'FileNotFoundError', 1]"
    )


async def test_host_environment_does_not_reach_the_sandbox(monkeypatch):

    require_bwrap()
    monkeypatch.setenv("CASTLING_TEST_API_KEY", "sk-canary-1234")
    tool = python(**FAST)
    try:
        out = await run_cell(
            tool,
            "import os\n"
            "def read(path):\n"
            "    try:\n"
            "        return open(path, 'rb').read().decode(errors='replace')\n"
            "    except OSError as e:\n"
            "        return type(e).__name__\n"
            "print(dict(os.environ))\nprint(read('/proc/1/environ'))\nprint(read('/proc/self/environ'))",
        )
    finally:
        await tool.aclose()
    assert "'HOME': '/workspace'" in out
    assert "sk-canary" not in out and "CASTLING_TEST_API_KEY" not in out
    assert os.environ["CASTLING_TEST_API_KEY"] == "sk-canary-1234"


async def test_no_route_to_the_internet_and_no_dns(run):
    # Only documentation addresses (TEST-NET-1) and a reserved .example name, and only inside the sandbox's empty
    # network namespace: nothing can leave it. EAI_AGAIN means no resolver could be reached at all (a reachable
    # resolver would answer NXDOMAIN, EAI_NONAME, for this name). Interfaces come from /proc/net/dev:
    # if_nameindex() needs a netlink socket, which the seccomp filter refuses.
    out = await run(
        "import errno, os, socket\n"
        "def attempt(fn):\n"
        "    try:\n"
        "        fn()\n"
        "        return 'CONNECTED'\n"
        "    except socket.gaierror as e:\n"
        "        return 'EAI_AGAIN' if e.errno == socket.EAI_AGAIN else str(e)\n"
        "    except OSError as e:\n"
        "        return errno.errorcode[e.errno]\n"
        "s = socket.socket()\ns.settimeout(1)\n"
        "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "[attempt(lambda: s.connect(('192.0.2.1', 80))), attempt(lambda: socket.getaddrinfo('dns-probe.example', 80)),"
        " attempt(lambda: u.sendto(b'x', ('192.0.2.53', 53))),"
        " [line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:]],"
        " os.path.exists('/etc/resolv.conf')]"
    )
    assert out == "[value]\n['ENETUNREACH', 'EAI_AGAIN', 'ENETUNREACH', ['lo'], False]"


async def test_host_loopback_service_gets_no_connection(run):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        out = await run(
            f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
            "    print('CONNECTED')\nexcept OSError as e:\n    print(type(e).__name__)"
        )
        assert out == "[stdout]\nConnectionRefusedError"
        with pytest.raises(BlockingIOError):
            listener.accept()  # zero connections reached the host's service
    finally:
        listener.close()


async def test_writes_outside_the_workspace_fail(run, tmp_path):
    host_file = tmp_path / "evil"
    out = await run(
        "import errno\n"
        "def write(path):\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        return 'WROTE'\n"
        "    except OSError as e:\n"
        "        return errno.errorcode[e.errno]\n"
        f"[write(p) for p in ('/usr/evil', '/etc/evil', '/evil', {str(host_file)!r})]"
    )
    assert out == "[value]\n['EROFS', 'EROFS', 'EROFS', 'ENOENT']"
    assert not host_file.exists()


async def test_filling_the_disk_hits_the_caps(run):
    out = await run(
        "import errno\n"
        "def fill(path):\n"
        "    try:\n"
        "        with open(path, 'wb') as f:\n"
        "            while True:\n"
        "                f.write(b'x' * 2**20)\n"
        "    except OSError as e:\n"
        "        return errno.errorcode[e.errno]\n"
        "[fill('/workspace/big'), fill('/workspace/big2'), fill('/workspace/big3'), fill('/dev/shm/big')]"
    )
    # 4 MiB per file (RLIMIT_FSIZE), 8 MiB per workspace, 16 MiB /dev/shm: EFBIG, then ENOSPC.
    assert out.startswith("[value]\n['EFBIG', 'EFBIG', 'ENOSPC', 'E")
    await assert_usable(run, keeps_state=True)


async def test_setsid_double_forked_daemon_does_not_outlive_the_cell(run):
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(600)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        "len(os.listdir('/proc')) > 0"
    )
    assert "[value]\nTrue" in await run(code)
    assert await run(PROCS) == "[value]\n[1]"


async def test_killing_the_parent_and_pid_1_has_no_effect(run):
    await run("x = 1")
    out = await run("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(1, signal.SIGKILL)\n'sent'")
    assert "[value]\n'sent'" in out
    assert await run("x") == "[value]\n1"


async def test_os_exit_is_reported_as_a_crash_and_the_worker_restarts(run):
    out = await run("import os\nos._exit(3)")
    assert "[crashed]" in out and "status 3" in out
    await assert_usable(run, keeps_state=False)


async def test_segfault_is_reported_as_a_crash_and_the_worker_restarts(run):
    out = await run("import ctypes\nctypes.string_at(0)")
    assert "[crashed]" in out and "SIGSEGV" in out
    await assert_usable(run, keeps_state=False)


async def test_forged_protocol_frames_are_ignored(run):
    forged = (
        OUT_FD + "import json, struct\n"
        "def frame(obj):\n"
        "    body = json.dumps(obj).encode()\n"
        "    return struct.pack('>I', len(body)) + body\n"
        "os.write(OUT, frame({'id': 'guess', 'status': 'ok', 'value': 'FORGED'}))\n"
        "os.write(OUT, struct.pack('>I', 5) + b'{junk')\n"
        "'real'"
    )
    out = await run(forged)
    assert out == "[value]\n'real'"
    assert await run("1 + 1") == "[value]\n2"


async def test_a_4gb_length_prefix_kills_the_worker_not_the_host(run):
    out = await run(OUT_FD + "os.write(OUT, b'\\xff\\xff\\xff\\xff')\nimport time\ntime.sleep(5)")
    assert "[crashed]" in out and "protocol violation" in out
    await assert_usable(run, keeps_state=False)


async def test_closing_the_protocol_fd_is_a_crash_and_the_worker_restarts(run):
    out = await run(OUT_FD + "os.close(OUT)")
    assert "[crashed]" in out
    await assert_usable(run, keeps_state=False)


async def test_input_gets_end_of_file(run):
    assert "EOFError" in await run("input('> ')")


async def test_nested_user_namespaces_are_refused(run):
    out = await run("import ctypes\nctypes.CDLL(None, use_errno=True).unshare(0x10000000)")
    assert out == "[value]\n-1"


async def test_kernel_attack_surface_syscalls_are_denied(run):
    # ptrace(PTRACE_TRACEME), keyctl(KEYCTL_GET_KEYRING_ID, session), io_uring_setup: EPERM from the seccomp
    # filter (without it, keyctl and io_uring_setup succeed in this sandbox); fork and threads still work.
    out = await run(
        "import ctypes, os, threading\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def call(nr, *args):\n"
        "    return libc.syscall(nr, *args), os.strerror(ctypes.get_errno())\n"
        "nrs = {'x86_64': (101, 250, 425), 'aarch64': (117, 219, 425)}[os.uname().machine]\n"
        "params = ctypes.create_string_buffer(120)\n"
        "print(call(nrs[0], 0, 0, 0, 0), call(nrs[1], 0, -3, 0), call(nrs[2], 1, params))\n"
        "t = threading.Thread(target=print, args=('thread ok',))\nt.start()\nt.join()\n"
        "pid = os.fork()\nif pid == 0:\n    os._exit(7)\nos.waitpid(pid, 0)[1] >> 8"
    )
    denied = "(-1, 'Operation not permitted')"
    assert out == f"[stdout]\n{denied} {denied} {denied}\nthread ok\n[value]\n7"


async def test_a_background_thread_printing_forever_does_not_hang_the_host(run):
    code = (
        "import threading\n"
        "def spam():\n"
        "    while True:\n"
        "        print('y' * 100)\n"
        "threading.Thread(target=spam, daemon=True).start()\n"
        "'started'"
    )
    # wait_for turns a hang (e.g. the host draining a pipe that never empties) into a failure.
    out = await asyncio.wait_for(run(code), 30)
    assert "[value]\n'started'" in out and len(out) < 21_000
    out = await asyncio.wait_for(run("1 + 1"), 30)
    assert "[value]\n2" in out and len(out) < 21_000
