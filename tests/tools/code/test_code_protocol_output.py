import json
import struct

import pytest

from castling.tools.code._config import PythonToolConfig, parse_size
from castling.tools.code._output import CappedBuffer, CellResult, render
from castling.tools.code._protocol import FrameDecoder, FrameTooLarge, encode
from castling.tools.code._seccomp import SOCKET_FAMILIES, blocked_syscalls, seccomp_program


def test_decoder_reassembles_frames_split_across_reads():
    data = encode({"id": "a", "n": 1}) + encode({"id": "b", "n": 2})
    decoder = FrameDecoder(1024)
    frames = []
    for i in range(len(data)):
        frames += decoder.feed(data[i : i + 1])
    assert frames == [{"id": "a", "n": 1}, {"id": "b", "n": 2}]


def test_decoder_refuses_a_4gb_length_prefix_without_buffering():
    decoder = FrameDecoder(16 * 1024**2)
    with pytest.raises(FrameTooLarge):
        decoder.feed(b"\xff\xff\xff\xff" + b"x" * 10)


def test_decoder_drops_frames_that_are_not_json_objects_and_stays_in_sync():
    junk = b"not json"
    data = struct.pack(">I", len(junk)) + junk + encode([1, 2]) + encode({"id": "ok"})
    assert FrameDecoder(1024).feed(data) == [{"id": "ok"}]


def test_capped_buffer_keeps_head_and_tail_and_counts_the_cut():
    buffer = CappedBuffer(10, 5)
    for chunk in (b"0123456789", b"x" * 1000, b"ABCDE"):
        buffer.feed(chunk)
    text = buffer.text()
    assert text.startswith("0123456789\n")
    assert text.endswith("\nABCDE")
    assert "1,000 bytes cut, 1,015 bytes in total" in text


def test_capped_buffer_short_output_is_unchanged():
    buffer = CappedBuffer(10, 5)
    buffer.feed(b"0123456789ab")
    assert buffer.text() == "0123456789ab"


def test_invalid_utf8_and_terminal_escapes_are_neutralised():
    buffer = CappedBuffer(100, 10)
    buffer.feed(b"ok \xff\xfe \x1b[31mred\x1b[0m\x07 end")
    assert buffer.text() == "ok \ufffd\ufffd red end"


def test_render_reports_value_files_figures_and_status():
    result = CellResult(
        "interrupted",
        stdout="hello\n",
        value="42",
        files={"created": [["out.csv", 2048]], "changed": [], "deleted": ["old.txt"], "more": 0},
        figures=[".figures/cell1-figure1.png"],
        detail="the cell ran longer than the 2 s timeout",
    )
    text = render(result)
    assert "[stdout]\nhello" in text
    assert "[value]\n42" in text
    assert "created: out.csv (2.0 KiB)" in text and "deleted: old.txt" in text
    assert "[figures] .figures/cell1-figure1.png" in text
    assert "2 s timeout" in text and "kept" in text


def test_sizes_accept_units():
    assert parse_size("2GiB") == 2 * 1024**3
    assert parse_size("512 MB") == 512 * 1000**2
    assert PythonToolConfig.model_validate({"memory": "1.5GiB"}).memory == int(1.5 * 1024**3)
    with pytest.raises(ValueError, match="cannot read"):
        parse_size("lots")


def test_frames_are_json_not_pickle():
    assert json.loads(encode({"id": "x"})[4:]) == {"id": "x"}


def test_seccomp_program_shape_per_architecture():
    assert seccomp_program("sparc") is None
    for machine, extra in (("x86_64", 1), ("aarch64", 0)):
        program = seccomp_program(machine)
        assert program is not None
        # 4 header instructions, one check per blocked call (+ the x32 check) and per socket call, allow, deny,
        # then the family check: load, one test per allowed family, refuse, allow; 8 bytes each.
        families = 1 + len(SOCKET_FAMILIES) + 2
        assert len(program) == 8 * (4 + len(blocked_syscalls()) + extra + 2 + 2 + families)
    assert {"ptrace", "bpf", "io_uring_setup", "userfaultfd", "keyctl"} <= set(blocked_syscalls())
