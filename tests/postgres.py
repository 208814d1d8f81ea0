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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextlib.contextmanager
def throwaway_server(options: str = "") -> Iterator[str]:
    """Yield a server URL (without a database name), stop and delete it afterwards.
    ``options`` are extra server settings, e.g. "-c shared_buffers=1GB"."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError(INSTALL_HINT)
    workdir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    data = workdir / "data"
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    port = _free_port()
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
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
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(workdir / "log"),
                    "-w",
                    "-o",
                    f"-h 127.0.0.1 -p {port} -k {workdir} -c fsync=off "
                    f"-c synchronous_commit=off -c full_page_writes=off {options}",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)


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
