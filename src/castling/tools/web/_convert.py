"""Decide what a response body is and turn it into text for the model.

Magic bytes win over the declared content type (a PNG served as text/html is still a PNG). Charset comes from
the Content-Type header, then a BOM or `<meta>` tag, then detection, then UTF-8 with replacement.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass

from castling.tools.web._extractor import Extractor
from castling.tools.web._reader import format_size
from castling.tools.web._sanitize import clean_body

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\x7fELF", "application/x-executable"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"\x00asm", "application/wasm"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.I)
_TEXT_TYPES = ("text/", "application/xml", "application/javascript", "application/x-yaml", "application/yaml")


class Unsupported(Exception):
    """A body we do not turn into text (binary, image, archive); the message is one line for the model."""


@dataclass
class Converted:
    """The text form of a body."""

    text: str
    title: str
    kind: str  # "html", "json", "text", "pdf"
    note: str = ""


def media_type(content_type: str) -> str:
    """`text/html; charset=x` → `text/html`."""
    return content_type.split(";", 1)[0].strip().lower()


def sniff(body: bytes, declared: str) -> str:
    """The effective media type: magic bytes first, then the declared type, then a look at the text."""
    head = body[:16]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"RIFF") and body[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "image/webp" if body[8:12] == b"WEBP" else "application/octet-stream"
    if declared and declared != "application/octet-stream":
        return declared
    sample = body[:512].lstrip().lower()
    if sample.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if sample[:1] in (b"{", b"["):
        return "application/json"
    return "text/plain" if _looks_textual(body) else "application/octet-stream"


def _looks_textual(body: bytes) -> bool:
    sample = body[:4096]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        return True
    return b"\x00" not in sample


def decode(body: bytes, content_type: str, *, html: bool = False) -> str:
    """Bytes → str using header charset, BOM, `<meta charset>`, detection, then UTF-8 with replacement."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(name, "replace")
    candidates = [_param(content_type, "charset")]
    if html:
        match = _META_CHARSET.search(body[:4096])
        candidates.append(match.group(1).decode("ascii") if match else "")
    for name in candidates:
        if name and _known_codec(name):
            return body.decode(name, "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:65536]).best()
    return body.decode(best.encoding if best else "utf-8", "replace")


def _param(content_type: str, key: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == key:
            return value.strip().strip("\"'")
    return ""


def _known_codec(name: str) -> bool:
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    # Byte-to-byte codecs (rot13, base64, zlib...) are not text encodings.
    return bool(getattr(info, "_is_text_encoding", True))


async def convert(body: bytes, content_type: str, url: str, extractor: Extractor, timeout: float) -> Converted:
    """Turn a response body into text, or raise `Unsupported` / `ExtractionFailed`."""
    kind = sniff(body, media_type(content_type))
    if kind in ("text/html", "application/xhtml+xml"):
        result = await extractor.html(decode(body, content_type, html=True), url, timeout)
        return Converted(clean_body(result.text), result.title, "html", "" if result.text else "no readable text")
    if kind == "application/json" or kind.endswith("+json"):
        return _json(decode(body, content_type))
    if kind == "application/pdf":
        result = await extractor.pdf(body, timeout)
        return Converted(clean_body(result.text), result.title, "pdf", "" if result.text else "no extractable text")
    if kind.startswith(_TEXT_TYPES) or kind.endswith("+xml"):
        return Converted(clean_body(decode(body, content_type)), "", "text")
    raise Unsupported(f"binary content ({kind}, {format_size(len(body))}) is not shown")


def _json(text: str) -> Converted:
    try:
        data = json.loads(text)
    except ValueError:
        return Converted(clean_body(text), "", "text", "declared JSON but did not parse")
    # json.dumps escapes C0 controls but not C1 controls or bidi overrides.
    return Converted(clean_body(json.dumps(data, indent=2, ensure_ascii=False)), "", "json")
