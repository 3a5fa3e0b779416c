"""Which optional extra a missing module comes from, so a command without it says what to install in one line."""

from __future__ import annotations

EXTRA_OF_MODULE = {
    "prompt_toolkit": "repl",
    "rich": "repl",
    "aiosqlite": "sqlite",
    "langgraph.checkpoint.sqlite": "sqlite",
    "psycopg": "postgres",
    "psycopg_pool": "postgres",
    "langgraph.checkpoint.postgres": "postgres",
    "trafilatura": "web",
    "lxml": "web",
    "lxml_html_clean": "web",
    "markdownify": "web",
    "charset_normalizer": "web",
    "pypdf": "web",
    "mcp": "mcp",
}


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The one line to print for a module of an optional extra that is not installed; None for any other module."""
    name = error.name or ""
    extra = next((e for module, e in EXTRA_OF_MODULE.items() if name == module or name.startswith(f"{module}.")), None)
    if extra is None:
        return None
    return (
        f"this needs the '{extra}' extra, which is not installed (no module {name!r}): pip install 'castling[{extra}]'"
    )
