"""The extraction worker process: reads framed requests on stdin, answers on stdout.

Frame: 4-byte big-endian header length, 4-byte payload length, a JSON header, raw payload bytes. Requests are
`{"op": "html", "url": ...}` (payload = UTF-8 HTML) or `{"op": "pdf"}` (payload = PDF bytes); answers carry
`{"ok": true, "title", "text", "method"}` or `{"ok": false, "error"}`. Never unpickles anything.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from typing import Any, BinaryIO

_HEAD = struct.Struct(">II")
MAX_FRAME = 64 << 20


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame; None at end of input."""
    head = stream.read(_HEAD.size)
    if len(head) < _HEAD.size:
        return None
    header_len, payload_len = _HEAD.unpack(head)
    if header_len + payload_len > MAX_FRAME:
        raise ValueError("frame too large")
    header = json.loads(stream.read(header_len))
    return header, stream.read(payload_len)


def encode_frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """Serialise one frame."""
    raw = json.dumps(header, ensure_ascii=False).encode()
    return _HEAD.pack(len(raw), len(payload)) + raw + payload


def _sibling(name: str) -> Any:
    # Run as a script (the default), this file's folder is on sys.path and `_extract` / `_confine` import on their
    # own, without importing castling (and langchain-core, httpx...): that saves most of a second at every start.
    import importlib

    if __package__:
        return importlib.import_module(f"castling.tools.web.{name}")
    return importlib.import_module(name)


def _extract_module() -> Any:
    return _sibling("_extract")


def _load_siblings() -> tuple[Any, Any]:
    confine, extract = _sibling("_confine"), _sibling("_extract")
    here = os.path.dirname(os.path.abspath(__file__))
    if here in sys.path:  # our sibling modules (e.g. tools.py) must not shadow anything the libraries import
        sys.path.remove(here)
    return confine, extract


def _handle(header: dict[str, Any], payload: bytes) -> dict[str, Any]:
    extract = _extract_module()
    try:
        if header.get("op") == "html":
            result = extract.extract_html(payload.decode("utf-8", "replace"), str(header.get("url", "")))
        elif header.get("op") == "pdf":
            result = extract.extract_pdf(payload)
        else:
            return {"ok": False, "error": f"unknown op {header.get('op')!r}"}
    except Exception as exc:  # report any extractor failure to the host instead of dying
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, **result.to_dict()}


def main() -> None:
    """Serve requests until stdin closes."""
    # Libraries may print; keep the protocol channel private and point fd 1 at stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    spec = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    # Confined before the warm-up, so a confinement that breaks extraction shows at start, not on a real page.
    confine, extract = _load_siblings()
    confined = confine.confine(spec)
    extract.warm_up()
    out.write(encode_frame({"ok": True, "ready": True, "confined": confined}))
    out.flush()
    while (frame := read_frame(stdin)) is not None:
        out.write(encode_frame(_handle(*frame)))
        out.flush()


if __name__ == "__main__":
    main()
