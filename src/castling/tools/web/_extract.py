"""HTML and PDF to text.

Runs inside the extraction worker process (see `_worker.py`), or in-process for benchmarks. Hostile input
can make these libraries spin for seconds, which is why callers run them behind a
hard deadline in a separate process.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

# Text inside these elements is never content; markdownify's `strip=` option would *unwrap* them and leak it.
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object", "canvas", "head")
_CANDIDATES_XPATH = "//body//*[@hidden or @aria-hidden or @style]"
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_WHITESPACE = re.compile(r"\s+")
_ZERO = re.compile(r"[+-]?(?:0*\.?0+|0+\.?)(?:[a-z]+|%)?")
_RELATIVE_SIZE = re.compile(r"(?:em|ex|ch|%)$|^(?:larger|smaller|inherit)$")
# Declarations that hide an element with everything in it (its children cannot show themselves again).
_HIDES_SUBTREE = {("display", "none"), ("content-visibility", "hidden")}
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
    """Remove what a reader never sees: its text is not content, and hidden text is an injection vector."""
    for element in list(tree.iter(*_DROP_TAGS)):  # collect first: dropping while iterating skips nodes
        element.drop_tree()
    for element in list(tree.xpath(_CANDIDATES_XPATH)):
        style = _declarations(element.get("style") or "")
        if _hides_subtree(element, style):
            element.drop_tree()
            continue
        # font-size and visibility are inherited, but a descendant may set them back (`font-size:0` on a row
        # of inline blocks is a common layout trick): drop the text that inherits them, keep what resets them.
        if _is_zero(style.get("font-size", "1")):
            _drop_inherited_text(element, "font-size", _shows_font_again)
        if style.get("visibility") in ("hidden", "collapse"):
            _drop_inherited_text(element, "visibility", lambda value: value == "visible")


def _declarations(style: str) -> dict[str, str]:
    """`DISPLAY:/*x*/ None !important` -> {"display": "none"}: case, whitespace and comments do not matter."""
    text = _WHITESPACE.sub("", _CSS_COMMENT.sub("", style)).lower()
    result = {}
    for declaration in text.split(";"):
        name, _, value = declaration.partition(":")
        result[name] = value.removesuffix("!important")
    return result


def _is_zero(value: str) -> bool:
    return _ZERO.fullmatch(value) is not None


def _shows_font_again(value: str) -> bool:
    # Relative sizes (2em, 150%, larger) of zero are still zero; rem and absolute sizes are not.
    relative = _RELATIVE_SIZE.search(value) is not None and not value.endswith("rem")
    return bool(value) and not _is_zero(value) and not relative


def _hides_subtree(element: Any, style: dict[str, str]) -> bool:
    if element.get("hidden") is not None or (element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return any(style.get(name) == value for name, value in _HIDES_SUBTREE) or _is_zero(style.get("opacity", "1"))


def _drop_inherited_text(root: Any, prop: str, resets: Callable[[str], bool]) -> None:
    """Clear the text of `root` and of every descendant that does not set `prop` back (iterative: deep pages)."""
    stack = [root]
    while stack:
        element = stack.pop()
        element.text = None
        for child in element:
            child.tail = None
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            if not resets(_declarations(child.get("style") or "").get(prop, "")):
                stack.append(child)


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
