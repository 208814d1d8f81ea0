"""What the benchmarks share: databases to run on, an app over them, timing."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask_migrate
from flask import Flask
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal import create_app
from portal.crypto.fields import TEXT, HasEncryptedFields, OwnerSpec, encrypted
from portal.crypto.keyring import new_keyring
from portal.extensions import db
from tests.conftest import settings_for_tests
from tests.postgres import create_database, throwaway_server


@contextlib.contextmanager
def databases(
    wanted: tuple[str, ...] = ("sqlite", "postgresql"), postgres_options: str = ""
) -> Iterator[list[tuple[str, str]]]:
    """(name, url) pairs: a file-backed SQLite database, and PostgreSQL (BENCH_DATABASE_URL's
    server, or a throwaway one like the tests', started with ``postgres_options``)."""
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        found = []
        if "sqlite" in wanted:
            found.append(("sqlite", f"sqlite:///{folder}/bench.db"))
        with contextlib.ExitStack() as stack:
            if "postgresql" in wanted:
                server = os.environ.get("BENCH_DATABASE_URL") or stack.enter_context(
                    throwaway_server(postgres_options)
                )
                found.append(("postgresql", create_database(server, "portal_bench")))
            yield found


def run_on_databases(run: Callable[[str, str], None]) -> int:
    """Run a benchmark on the databases named on the command line (default: both)."""
    with databases(tuple(sys.argv[1:]) or ("sqlite", "postgresql")) as found:
        for name, url in found:
            run(name, url)
    return 0


def bench_app(url: str, instance: Path | None = None) -> Flask:
    """The portal over a migrated database, with a fresh keyring."""
    instance = instance or Path(tempfile.mkdtemp(prefix="portal-bench-instance-"))
    app = create_app(
        settings_for_tests(url, instance, keyring=new_keyring(), password_hash_profile="CHEAPEST")
    )
    with app.app_context():
        flask_migrate.upgrade()
    return app


class BenchBase(HasEncryptedFields, DeclarativeBase):
    """Benchmark-only tables, kept out of the portal's schema."""


class SealedRecord(BenchBase):
    """Five encrypted fields, as a referral's personal fields will be."""

    __tablename__ = "bench_sealed_records"
    __encryption_owner__ = OwnerSpec.authority()

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    authority_id: Mapped[uuid.UUID]
    name = encrypted(TEXT)
    address = encrypted(TEXT)
    phone = encrypted(TEXT)
    email = encrypted(TEXT)
    narrative = encrypted(TEXT)


class PlainRecord(BenchBase):
    """The same in clear: the baseline."""

    __tablename__ = "bench_plain_records"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    authority_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(320))
    narrative: Mapped[str] = mapped_column(String(4000))


FIELDS = ("name", "address", "phone", "email", "narrative")


def create_bench_tables(app: Flask) -> None:
    with app.app_context():
        BenchBase.metadata.drop_all(db.engine)
        BenchBase.metadata.create_all(db.engine)


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds per call, ``repeat`` times, after one warm-up call."""
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def interleaved(
    first: Callable[[], Any], second: Callable[[], Any], repeat: int
) -> tuple[list[float], list[float]]:
    """Time two actions alternately, so a machine that slows down or speeds up during
    the run affects both alike. Seconds per call for each."""
    first()
    second()
    a, b = [], []
    for _ in range(repeat):
        for action, times in ((first, a), (second, b)):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
    return a, b


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)
