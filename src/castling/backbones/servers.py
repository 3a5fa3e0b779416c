"""Model servers by API name, imported only when picked: `make_server("openai", "http://gpu1:8000/v1")`.

Adding a server is one module with a class that meets `server.ModelServer`, plus a line here. Also the one rule
for the bearer key of an OpenAI-compatible server (`api_key_for`), which every command follows. Kept light (no
httpx at import) because the command line's parsers read it for their help text.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from castling.errors import ConfigError

if TYPE_CHECKING:
    from castling.backbones.server import AnyTransport, ModelServer

DEFAULT_TIMEOUT = 300.0
"""Seconds to wait for a server's answer (a cold model may take a while to load). `server.DEFAULT_TIMEOUT`."""
SERVERS: dict[str, str] = {
    "ollama": "castling.backbones.ollama:OllamaServer",
    "openai": "castling.backbones.openai:OpenAIServer",
}
KEYED_API = "openai"
"""The API that takes a bearer key (vLLM `--api-key`, LM Studio, gateways); Ollama takes none."""
API_KEY_ENV = "CASTLING_API_KEY"
"""Where the key is read from when none is given. Never OPENAI_API_KEY: a real OpenAI key must not go to a GPU box."""
KEY_WITHOUT_KEYED_SERVER = "--api-key is for an OpenAI-compatible server: add --server openai"
API_KEY_HELP = f"bearer key for an OpenAI-compatible server (default: ${API_KEY_ENV}; never $OPENAI_API_KEY)"


def api_key_for(api: str | None, given: str | None) -> str | None:
    """The bearer key to send to a server speaking `api`: `given`, else $CASTLING_API_KEY; None for other APIs.

    A key given for any other API is refused (`ConfigError`, saying to add `--server openai`): it would not be sent.
    """
    if api != KEYED_API:
        if given:
            raise ConfigError(KEY_WITHOUT_KEYED_SERVER)
        return None
    return given or os.environ.get(API_KEY_ENV) or None


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
