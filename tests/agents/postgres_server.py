"""A throwaway PostgreSQL: `initdb` into a temporary folder, `postgres` on a free loopback port, removed after.

PostgreSQL refuses to run as root, so as root the cluster belongs to `nobody`. The binaries come from Debian's
`postgresql` package (/usr/lib/postgresql/<version>/bin), installed by `.ci/system-deps`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

INSTALL = "sudo apt-get install postgresql (or, as root: bash .ci/system-deps)"
USER = "castling"


class PostgresMissing(RuntimeError):
    """initdb / postgres are not installed."""


def binaries() -> Path:
    """The folder with initdb and postgres (the newest version installed)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not versions:
        raise PostgresMissing(f"PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql): {INSTALL}")
    return Path(versions[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _owner() -> tuple[str | None, int, int]:
    if os.geteuid() != 0:
        return None, os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return "nobody", nobody.pw_uid, nobody.pw_gid


def _wait_ready(bin_dir: Path, port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"postgres exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", "postgres"],
            capture_output=True,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"postgres did not accept connections within 60 s:\n{log.read_text()[-2000:]}")


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a private PostgreSQL; yields its URL (user `castling`, trust auth on loopback only)."""
    bin_dir = binaries()
    user, uid, gid = _owner()
    folder = Path(tempfile.mkdtemp(prefix="castling-pg-"))
    os.chown(folder, uid, gid)
    data, sockets, log = folder / "data", folder / "sockets", folder / "postgres.log"
    sockets.mkdir()
    os.chown(sockets, uid, gid)
    port = _free_port()
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            user=user,
            cwd=folder,
        )
        with log.open("wb") as out:
            server = subprocess.Popen(
                [
                    *[str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets)],
                    *["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"],
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                user=user,
                cwd=folder,
            )
        _wait_ready(bin_dir, port, server, log)
        yield f"postgresql://{USER}@127.0.0.1:{port}/postgres"
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # "fast" shutdown: ends sessions, no waiting for clients
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)
