"""A published reference server: @modelcontextprotocol/server-filesystem from npm (installed by .ci/system-deps)."""

from __future__ import annotations

import shutil

import pytest

from castling.agents.toolbox import Toolbox
from castling.tools import mcp


@pytest.fixture
def filesystem_server() -> str:
    command = shutil.which("mcp-server-filesystem")
    if command is None:
        pytest.fail(
            "mcp-server-filesystem is not installed: run `make system-deps` "
            "(npm install -g @modelcontextprotocol/server-filesystem)."
        )
    return command


def test_filesystem_server_reads_and_writes_through_an_agent_toolbox(filesystem_server, tmp_path):
    (tmp_path / "notes.txt").write_text("castling was here\n")
    server = mcp([filesystem_server, str(tmp_path)], allow=["read_text_file", "write_file", "list_directory"])
    box = Toolbox([server], default_timeout=None)
    try:
        assert sorted(box.names) == ["list_directory", "read_text_file", "write_file"]
        assert "$ref" not in str(box.wire) and "$schema" not in str(box.wire)
        read = box.run(box.check("read_text_file", {"path": str(tmp_path / "notes.txt")}), None)
        assert read.content.strip() == "castling was here"
        wrote = box.run(box.check("write_file", {"path": str(tmp_path / "out.txt"), "content": "hi"}), None)
        assert wrote.error is None
        assert (tmp_path / "out.txt").read_text() == "hi"
        outside = box.run(box.check("read_text_file", {"path": "/etc/hostname"}), None)
        assert outside.error is not None and "reported an error" in outside.error  # isError reaches the model
    finally:
        box.close()
