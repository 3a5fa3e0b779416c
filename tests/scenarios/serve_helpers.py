"""`castling serve` as a real process on a free loopback port, and the official Python client pointed at it."""

import http.client
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import ollama

from castling.scenarios.store import load, save
from tests.scenarios.scenario_helpers import LIBRARY

HELLO = [{"role": "user", "content": "hello"}]
OPTIONS = {"num_predict": 20, "temperature": 0.5}


class Served:
    """A running `castling serve`: its process, URL and an official Python client pointed at it."""

    def __init__(self, proc: "subprocess.Popen[str]", url: str) -> None:
        self.proc, self.url = proc, url
        self.client = ollama.Client(host=url)
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port or 0

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=10)

    def ask(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        connection = self.connection()
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        return response.status, text

    def hello(self, model: str = "llama3.1") -> str:
        stream = self.client.chat(model=model, messages=HELLO, options=OPTIONS, stream=True)
        return "".join(c.message.content or "" for c in stream)


@contextmanager
def serving(path: Path, *extra: str) -> Iterator[Served]:
    """`castling serve PATH` on a free port (`extra` are more flags), stopped on the way out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "castling.cli.main", "serve", str(path), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert " at http://" in banner, banner
        yield Served(proc, banner.split(" at ")[1].split()[0])
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=10)


DOTNET = ["basicrequestresponse-nonstreaming", "basicrequestresponse-streaming"]
DOTNET += ["functioncallcontent-nonstreaming", "functionresultcontent-nonstreaming"]


def dotnet_conversation(folder: Path, *names: str) -> Path:
    """Live turns recorded from a real Ollama, in one file: by default all four of `DOTNET`, hello (whole), hello
    (streamed), a tool call, the answer to its result; clients of other languages replay them in that order."""
    files = [load(LIBRARY / "live" / f"dotnet-llama3.1-{name}.yaml") for name in names or DOTNET]
    scenario = files[0].model_copy(update={"id": "dotnet-llama3.1-conversation"})
    scenario.model_turns = [turn for file in files for turn in file.model_turns]
    for index, turn in enumerate(scenario.model_turns):
        turn.turn = index
    path = folder / "dotnet-llama3.1-conversation.yaml"
    save(scenario, path)
    return path
