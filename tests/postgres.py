"""A throwaway PostgreSQL server for the test run, or the one TEST_DATABASE_URL names.

Debian's PostgreSQL refuses to run as root, so as root the cluster is made and started
as the ``postgres`` user (runuser), in a temporary folder it owns, on a free port bound
to 127.0.0.1 only. Trust authentication is fine: nothing else can reach it, and it is
deleted when the run ends.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from portal.config import normalise_database_url

INSTALL_HINT = (
    "PostgreSQL is not installed: run `make test` (it installs Debian's postgresql), "
    "or set TEST_DATABASE_URL to a server you can create databases on"
)


def _bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class Server:
    """A throwaway server that a test may stop and start again (a database outage)."""

    url: str
    bin_dir: Path
    workdir: Path
    port: int
    options: str

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    def start(self) -> None:
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.workdir / "log"),
                    "-w",
                    "-o",
                    f"-h 127.0.0.1 -p {self.port} -k {self.workdir} -c fsync=off "
                    f"-c synchronous_commit=off -c full_page_writes=off {self.options}",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "immediate") -> None:
        subprocess.run(
            _as_postgres([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop"]),
            capture_output=True,
        )


@contextlib.contextmanager
def controllable_server(options: str = "") -> Iterator[Server]:
    """A new server, started; stopped and deleted afterwards. ``options`` are extra
    server settings, e.g. "-c shared_buffers=1GB"."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError(INSTALL_HINT)
    workdir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    port = free_port()
    server = Server(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}", bin_dir, workdir, port, options
    )
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(server.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def throwaway_server(options: str = "") -> Iterator[str]:
    """Yield a server URL (without a database name), stop and delete it afterwards."""
    with controllable_server(options) as server:
        yield server.url


def create_database(server_url: str, name: str) -> str:
    """A fresh, empty database on the server; returns its SQLAlchemy URL."""
    plain = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                connection.execute(f'CREATE DATABASE "{name}"')
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return f"{server_url}/{name}"


def server_from_environment() -> str | None:
    """TEST_DATABASE_URL without its database name, in the psycopg 3 dialect."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    server = make_url(normalise_database_url(url)).set(database=None)
    return server.render_as_string(hide_password=False)
