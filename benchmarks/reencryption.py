"""Re-encryption throughput after a key rotation, while the portal serves.

    .venv/bin/python -m benchmarks.reencryption [sqlite] [postgresql]

20,000 records x 5 sealed fields (100,000 values) under an authority's key; the key is
rotated; one process re-encrypts every value (``flask keys reencrypt``'s code, batches
of 1,000 with compare-and-swap) while gunicorn (2 workers, same database and keyring)
answers a steady stream of requests on 127.0.0.1 (BENCH_RATE a second, default 50).

Goal (issue 4): >= 40,000 fields a second on SQLite, >= 20,000 on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert

from benchmarks.common import (
    FIELDS,
    SealedRecord,
    bench_app,
    create_bench_tables,
    run_on_databases,
)
from portal import keystore
from portal.config import SETTINGS_EXTENSION
from portal.crypto.fields import OwnerSpec
from portal.crypto.keys import KeyOwner
from portal.crypto.rotation import SealedColumn, column_status, reencrypt
from portal.extensions import db

ROWS = int(os.environ.get("BENCH_ROWS", "20000"))
# A busy portal: 50 requests a second is far above a council's LADO service at its peak.
RATE = float(os.environ.get("BENCH_RATE", "50"))
ROOT = Path(__file__).resolve().parent.parent


def sealed_columns() -> list[SealedColumn]:
    table = cast(Table, SealedRecord.__table__)
    return [
        SealedColumn(
            table,
            "bench_sealed_records",
            name,
            table.c[name],
            table.c.id,
            OwnerSpec.authority(),
            (table.c.authority_id,),
        )
        for name in FIELDS
    ]


def load(authority_id: uuid.UUID) -> None:
    """Rows sealed directly (bulk), as the ORM would seal them."""
    manager = keystore.keys()
    owner = KeyOwner.authority(authority_id)
    table = cast(Table, SealedRecord.__table__)
    # The authority's key exists before its data, as it would in the portal: made and
    # committed now, not inside the bulk load's own transactions.
    manager.primary_key_id(owner)
    db.session.commit()
    for start in range(0, ROWS, 2000):
        rows = []
        for number in range(start, min(start + 2000, ROWS)):
            row_id = uuid.uuid4()
            row = {"id": row_id, "authority_id": authority_id}
            for name in FIELDS:
                row[name] = manager.seal(
                    owner,
                    "bench_sealed_records",
                    name,
                    row_id,
                    f"{name} of record {number}, some text".encode(),
                )
            rows.append(row)
        with db.engine.begin() as connection:
            connection.execute(insert(table), rows)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TRAFFIC = """
import sys, time, urllib.request
port, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
paths = ("/healthz", "/sign-in", "/accessibility-statement")
answered = errors = turn = 0
start = time.monotonic()
while time.monotonic() - start < seconds:
    due = start + turn / rate
    time.sleep(max(0.0, due - time.monotonic()))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{paths[turn % 3]}", timeout=10) as r:
            r.read()
        answered += 1
    except OSError:
        errors += 1
    turn += 1
print(answered, errors)
"""


class Traffic:
    """A steady stream of requests to gunicorn from another process (so it does not
    share this process's interpreter lock), counting answers and errors."""

    def __init__(self, port: int, rate: float, seconds: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", TRAFFIC, str(port), str(rate), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )

    def result(self) -> tuple[int, int]:
        out, _ = self.process.communicate(timeout=600)
        answered, errors = out.split()
        return int(answered), int(errors)


def serve(url: str, app_keys: str, secret: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_DATABASE_URL": url,
        "PORTAL_KEYS": app_keys,
        "PORTAL_SECRET_KEY": secret,
    }
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def run(name: str, url: str) -> None:
    app = bench_app(url)
    create_bench_tables(app)
    settings = app.extensions[SETTINGS_EXTENSION]
    authority_id = uuid.uuid4()
    with app.app_context():
        load(authority_id)
        manager = keystore.keys()
        manager.rotate(KeyOwner.authority(authority_id))
        db.session.commit()
    port = free_port()
    server = serve(url, settings.keyring.to_json(), settings.secret_key, port)
    traffic = Traffic(port, RATE, seconds=12)
    try:
        time.sleep(1)
        with app.app_context():
            start = time.perf_counter()
            moved = reencrypt(db.engine, sealed_columns(), manager, batch=1000).reencrypted
            elapsed = time.perf_counter() - start
            with db.engine.connect() as connection:
                left = sum(
                    sum(
                        n
                        for key, n in column_status(
                            connection, column, manager, open_values=False
                        ).by_key.items()
                        if key != manager.primary_key_id(KeyOwner.authority(authority_id))
                    )
                    for column in sealed_columns()
                )
            db.engine.dispose()
    finally:
        answered, errors = traffic.result()
        server.terminate()
        server.wait(timeout=30)
    print(
        f"\n{name}: {moved:,} values re-encrypted in {elapsed:.2f} s = "
        f"{moved / elapsed:,.0f} fields/s (one process); {left} left on the old key"
    )
    print(
        f"  meanwhile gunicorn answered {answered:,} requests ({RATE:.0f} a second for 12 s, "
        f"from another process), {errors} errors"
    )


if __name__ == "__main__":
    sys.exit(run_on_databases(run))
