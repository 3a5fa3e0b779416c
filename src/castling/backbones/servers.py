"""Model servers by API name, imported only when picked: `make_server("openai", "http://gpu1:8000/v1")`.

Adding a server is one module with a class that meets `server.ModelServer`, plus a line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from castling.backbones.server import DEFAULT_TIMEOUT, AnyTransport, ModelServer
from castling.errors import ConfigError

SERVERS: dict[str, str] = {
    "ollama": "castling.backbones.ollama:OllamaServer",
    "openai": "castling.backbones.openai:OpenAIServer",
}


def server_class(api: str) -> Any:
    """The class serving `api` (`ollama`, `openai`)."""
    path = SERVERS.get(api)
    if path is None:
        raise ConfigError(f"Unknown server {api!r}: castling speaks {', '.join(sorted(SERVERS))}.")
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def make_server(
    api: str,
    host: str | Sequence[str] | None,
    *,
    api_key: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    transport: AnyTransport | None = None,
) -> ModelServer:
    """A server speaking `api` at `host`, or a `Pool` of them when `host` is a list of URLs."""
    cls = server_class(api)
    kwargs: dict[str, Any] = {"timeout": timeout, "transport": transport}
    if api_key is not None:
        kwargs["api_key"] = api_key
    if host is None or isinstance(host, str):
        server: ModelServer = cls(host, **kwargs)
        return server
    if not host:
        raise ConfigError("host= is an empty list: give one URL, or a list of URLs for a pool.")
    from castling.backbones.pool import Pool  # only when a pool is asked for

    return Pool([cls(one, **kwargs) for one in host])
