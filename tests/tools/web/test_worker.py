"""The extraction worker: a clean environment, confined, and a start-up failure that says why (issues #17, #15).

Observed on the real worker process through /proc (Linux), not through a test hook.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import castling.tools.web._confine as confine_module
from castling.tools.web._extractor import ExtractionFailed, ProcessExtractor
from castling.tools.web._spawn import INHERITED_ENV

from .server import static

PAGE = b"<html><body><article><p>Harbour news for today.</p></article></body></html>"
pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the worker's /proc entries")


@pytest.fixture
def extractor() -> Iterator[ProcessExtractor]:
    worker = ProcessExtractor()
    yield worker
    worker.close()


def _running(worker: ProcessExtractor) -> int:
    assert worker.call({"op": "html", "url": ""}, PAGE, 60).text == "Harbour news for today."
    assert worker.pid is not None
    return worker.pid


def test_the_worker_does_not_inherit_secrets_from_the_host(extractor, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CASTLING_TEST_API_KEY", "sk-host-secret")
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy.test:3128")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    environ = Path(f"/proc/{_running(extractor)}/environ").read_bytes()
    names = {entry.split(b"=", 1)[0].decode() for entry in environ.split(b"\0") if entry}
    # Compare names only, so a failure does not print the host's environment into the test log.
    assert sorted(names - {*INHERITED_ENV, "LC_ALL", "OPENBLAS_NUM_THREADS", "PYTHONDONTWRITEBYTECODE"}) == []
    assert (b"sk-host-secret" in environ, b"proxy.test" in environ) == (False, False)
    assert "LC_ALL" in names


def test_the_worker_is_confined(extractor) -> None:  # type: ignore[no-untyped-def]
    pid = _running(extractor)
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    limits = Path(f"/proc/{pid}/limits").read_text()
    assert status["NoNewPrivs"].strip() == "1" and status["Seccomp"].strip() == "2"
    assert int(status["Seccomp_filters"]) >= 2  # the code sandbox's deny list + no network, no exec
    for name, value in (("Max file size", "0"), ("Max core file size", "0"), ("Max open files", "64")):
        line = next(line for line in limits.splitlines() if line.startswith(name))
        assert line.split()[-3:-1] == [value, value]  # soft = hard: the worker cannot raise them again
    assert extractor.confined == ["rlimits", "seccomp"]


def test_the_no_network_no_exec_filter_denies_sockets_and_programs() -> None:
    # The filter the worker installs, in a real process of its own: a socket or a program start fails with EPERM.
    code = (
        "import sys, socket, subprocess; sys.path.insert(0, sys.argv[1]); import _confine\n"
        "_confine.install_filters([_confine.deny_program()])\n"
        "for attempt in (lambda: socket.socket(), lambda: subprocess.run(['/bin/true'])):\n"
        "    try:\n        attempt(); print('allowed')\n"
        "    except PermissionError:\n        print('denied')\n"
        "print(open(sys.argv[2]).read(6))\n"
    )
    here = str(Path(confine_module.__file__).parent)
    result = subprocess.run(
        [sys.executable, "-c", code, here, confine_module.__file__], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[:3] == ["denied", "denied", '"""Con']  # reading files still works


async def test_a_worker_that_cannot_start_says_why(server, make_fetch, tmp_path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    # What issue #15 hit: trafilatura -> justext -> lxml.html.clean without lxml_html_clean installed.
    (tmp_path / "trafilatura.py").write_text(
        "raise ImportError('lxml.html.clean module is now a separate project lxml_html_clean.\\n'\n"
        "                  'Install lxml[html-clean] or lxml_html_clean directly.')\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    broken = ProcessExtractor()
    server.routes["/p"] = static(200, PAGE, "text/html")
    tool = make_fetch(allow_hosts=["127.0.0.1"], extractor=broken)
    with caplog.at_level(logging.ERROR, logger="castling.tools.web._extractor"):
        result = str(await tool.ainvoke({"url": server.url("/p")}))
    assert result == (
        "fetch failed: the extraction worker did not start: ImportError: lxml.html.clean module is now a separate "
        "project lxml_html_clean. Install lxml[html-clean] or lxml_html_clean directly."
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "the extraction worker did not start" in logged and 'File "' in logged  # the traceback is in the log
    with pytest.raises(ExtractionFailed, match="lxml_html_clean directly"):
        broken.call({"op": "html", "url": ""}, PAGE, 60)  # and again on the next call, not a stale message
