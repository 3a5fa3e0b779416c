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
    """A server speaking `api` at `host`."""
    cls = server_class(api)
    if host is not None and not isinstance(host, str):
        raise ConfigError("A list of hosts (a pool) is not supported yet: pass one host.")
    kwargs: dict[str, Any] = {"timeout": timeout, "transport": transport}
    if api_key is not None:
        kwargs["api_key"] = api_key
    server: ModelServer = cls(host, **kwargs)
    return server
