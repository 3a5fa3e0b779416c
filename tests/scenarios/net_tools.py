"""Tools that open their own HTTP client (not the scenario's transport), for the offline-replay tests.

All four carry the same name, description and arguments, so a scenario recorded with the harmless stand-in
replays with any of the others. The documentation address 192.0.2.1 (TEST-NET-1) is never really contacted:
the tests run them only with the guard on and with tripwires in place of the real socket functions.
"""

import httpx

from castling.tools.decorator import tool

TARGET = "http://192.0.2.1/status"
DESCRIPTION = "Look up the status page of a service."


@tool(name="service_status", description=DESCRIPTION)
def stand_in(url: str) -> str:
    """Used to record the scenario: touches nothing."""
    return "status: ok"


@tool(name="service_status", description=DESCRIPTION)
def own_client(url: str) -> str:
    """A careless tool: its own httpx client, ordinary errors turned into text for the model."""
    try:
        with httpx.Client(timeout=1.0) as client:
            return client.get(url).text
    except Exception as exc:  # what most tools do; the guard's error is not an Exception
        return f"Error: {exc}"


@tool(name="service_status", description=DESCRIPTION)
async def own_async_client(url: str) -> str:
    """The same through httpx.AsyncClient (anyio → asyncio's getaddrinfo/sock_connect)."""
    try:
        async with httpx.AsyncClient(timeout=1.0) as client:
            return (await client.get(url)).text
    except Exception as exc:
        return f"Error: {exc}"


@tool(name="service_status", description=DESCRIPTION)
def swallowing_client(url: str) -> str:
    """A tool that swallows everything, even BaseException: the guard's record must still fail the run."""
    try:
        with httpx.Client(timeout=1.0) as client:
            return client.get(url).text
    except BaseException as exc:  # deliberately hostile
        return f"Error: {exc}"
