"""HTML and PDF to text.

Runs inside the extraction worker process (see `_worker.py`), or in-process for benchmarks. Hostile input
can make these libraries spin for seconds, which is why callers run them behind a
hard deadline in a separate process.
"""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass
from typing import Any

# Text inside these elements is never content; markdownify's `strip=` option would *unwrap* them and leak it.
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object", "canvas", "head")
_HIDDEN_XPATH = (
    "//body//*[@hidden or @aria-hidden='true' or contains(translate(@style, ' ', ''), 'display:none')"
    " or contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)
MIN_MAIN_CONTENT = 200
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass
class Extracted:
    """What an extractor returns: a title, the text, and which method produced it."""

    title: str
    text: str
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def extract_html(html: str, url: str = "") -> Extracted:
    """Main content of an HTML page as markdown: trafilatura first, full-page markdownify if it finds little."""
    import lxml.html  # type: ignore[import-untyped]
    import trafilatura

    if not html.strip():
        return Extracted("", "", "empty")
    try:
        tree = lxml.html.document_fromstring(html)
    except Exception:  # lxml raises several unrelated types on garbage input
        return Extracted("", "", "unparseable")
    title = " ".join((tree.findtext(".//title") or "").split())[:300]
    _drop_invisible(tree)
    main = trafilatura.extract(
        tree,
        url=url or None,
        output_format="markdown",
        include_links=True,
        include_tables=True,
        include_images=False,
        fast=True,
    )
    main = (main or "").strip()
    if len(main) >= MIN_MAIN_CONTENT:
        return Extracted(title, main, "trafilatura")
    full = _full_page_markdown(lxml.html.document_fromstring(html))
    if len(full) > len(main):
        return Extracted(title, full, "markdownify")
    return Extracted(title, main, "trafilatura")


def _drop_invisible(tree: Any) -> None:
    """Remove elements a reader never sees: their text is not content, and hidden text is an injection vector."""
    for element in list(tree.iter(*_DROP_TAGS)):  # collect first: dropping while iterating skips nodes
        element.drop_tree()
    for element in list(tree.xpath(_HIDDEN_XPATH)):
        element.drop_tree()


def _full_page_markdown(tree: Any) -> str:
    import lxml.html
    from markdownify import markdownify

    _drop_invisible(tree)
    body = lxml.html.tostring(tree, encoding="unicode")
    try:
        text = markdownify(body, heading_style="ATX")
    except RecursionError:  # markdownify recurses per nesting level
        text = tree.text_content()
    return _BLANK_LINES.sub("\n\n", text).strip()


def extract_pdf(data: bytes, max_pages: int = 200) -> Extracted:
    """Text of a PDF's pages (up to `max_pages`) with pypdf."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    meta = reader.metadata
    title = str(meta.title) if meta is not None and meta.title else ""
    pages = [page.extract_text() or "" for page in reader.pages[:max_pages]]
    text = "\n\n".join(f"--- page {i} ---\n{t.strip()}" for i, t in enumerate(pages, 1) if t.strip())
    if len(reader.pages) > max_pages:
        text += f"\n\n[{len(reader.pages) - max_pages} more pages not extracted]"
    return Extracted(title, text, "pypdf")


def warm_up() -> None:
    """Load trafilatura's lazily loaded resources (jusText stoplists: ~1 s the first time) before real work."""
    extract_html("<html><head><title>w</title></head><body><div><p>warm up</p><a href='/'>x</a></div></body></html>")
