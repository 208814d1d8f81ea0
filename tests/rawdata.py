"""The database as someone with a copy of it would see it: for the canary tests."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.conftest import Database


def canary() -> str:
    return f"canary{secrets.token_hex(8)}"


def raw_database_bytes(database: Database) -> bytes:
    """Everything the database holds, as an attacker with a copy would see it."""
    url = make_url(database.url)
    if database.kind == "sqlite":
        path = url.database
        assert path
        return b"".join(
            Path(name).read_bytes() for name in glob.glob(f"{path}*") if os.path.isfile(name)
        )
    pg_dump = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump")) or [shutil.which("pg_dump")]
    assert pg_dump[-1], "pg_dump is needed for the PostgreSQL canary test"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(
        [pg_dump[-1], "--dbname", plain], check=True, capture_output=True, timeout=120
    ).stdout


def appears_in(dump: bytes, value: str) -> bool:
    """Whether a value shows in the raw bytes, as text or as a dump prints binary
    columns (PostgreSQL's bytea as hex)."""
    data = value.encode()
    forms = (data, value.upper().encode(), data.hex().encode())
    return any(form in dump for form in forms)
