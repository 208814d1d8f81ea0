"""Fixtures: every test that uses ``app`` runs on SQLite *and* PostgreSQL, against a
database migrated with the real migrations, emptied before each test.

Tests talk to the portal through the Flask test client (HTTPS, CSRF on), which checks
every HTML page it receives (see pagecheck.py). Nothing of the portal is mocked.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import smtplib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from portal import create_app, keystore
from portal.config import Settings
from portal.crypto.keyring import new_keyring
from portal.extensions import db
from portal.models import Base
from portal.notify import MEMORY_OUTBOX, deliver_pending
from tests.client import PortalClient
from tests.postgres import create_database, server_from_environment, throwaway_server

# One secret and one keyring for the run: apps made by make_app stand for other workers
# of one deployment.
TEST_SECRET_KEY = secrets.token_urlsafe(48)
TEST_KEYRING = new_keyring()
BACKENDS = [
    name.strip()
    for name in os.environ.get("PORTAL_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if name
]

# Hypothesis explores new random answers on every local run; CI (.ci/run sets
# HYPOTHESIS_PROFILE=ci) replays a fixed sequence, so a clean clone passes or fails the
# same way every time. A failure found locally becomes a named case in a test.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@dataclass
class Database:
    kind: str
    url: str
    reset: Callable[[Flask], None]


def settings_for_tests(database_url: str, instance_path: Path, **overrides: Any) -> Settings:
    settings = Settings(
        secret_key=TEST_SECRET_KEY,
        keyring=TEST_KEYRING,
        database_url=database_url,
        instance_path=instance_path,
        environment="test",
        base_url="https://portal.test",
        password_hash_profile="CHEAPEST",
        mail_transport="memory",
        audit_chain_every=0,  # chained after every response, for tests to look at
    )
    return dataclasses.replace(settings, **overrides)


def _migrate(database_url: str, instance_path: Path) -> None:
    app = create_app(settings_for_tests(database_url, instance_path))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    existing = server_from_environment()
    if existing:
        yield existing
        return
    with throwaway_server() as url:
        yield url


def _sqlite_database(folder: Path) -> Database:
    template = folder / "template.db"
    live = folder / "portal.db"
    _migrate(f"sqlite:///{template}", folder)
    with sqlite3.connect(template) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def reset(app: Flask) -> None:
        with app.app_context():
            db.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(template, live)

    return Database("sqlite", f"sqlite:///{live}", reset)


def _postgres_database(server: str) -> Database:
    url = create_database(server, f"portal_test_{os.getpid()}")
    _migrate(url, Path("/nonexistent"))
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)

    def reset(app: Flask) -> None:
        with app.app_context(), db.engine.begin() as connection:
            # TRUNCATE fires no row triggers, so the append-only audit table empties too.
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    return Database("postgresql", url, reset)


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Database:
    if request.param == "sqlite":
        return _sqlite_database(tmp_path_factory.mktemp("sqlite"))
    return _postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def _shared_app(database: Database, instance_path: Path) -> Flask:
    app = create_app(settings_for_tests(database.url, instance_path))
    app.test_client_class = PortalClient
    return app


@pytest.fixture
def app(_shared_app: Flask, database: Database) -> Iterator[Flask]:
    """The portal over an empty, migrated database."""
    database.reset(_shared_app)
    with _shared_app.app_context():
        keystore.keys().forget_cache()  # the keys it remembers went with the data
    _shared_app.extensions[MEMORY_OUTBOX] = []
    yield _shared_app
    with _shared_app.app_context():
        db.session.remove()


@pytest.fixture
def make_app(database: Database, instance_path: Path, app: Flask) -> Iterator[Callable[..., Flask]]:
    """Another app on the same (emptied) database, with some settings changed: stands
    for a second gunicorn worker, or a differently configured deployment."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        other = create_app(settings_for_tests(database.url, instance_path, **overrides))
        other.test_client_class = PortalClient
        other.extensions[MEMORY_OUTBOX] = []
        made.append(other)
        return other

    yield factory
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> PortalClient:
    test_client = app.test_client()
    assert isinstance(test_client, PortalClient)
    return test_client


class Mailbox:
    """What the outbox worker would have sent by now: each look runs one delivery pass
    (as ``flask outbox worker`` does every couple of seconds), then reads the messages
    the test transport kept."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def all(self) -> list[dict[str, Any]]:
        with self.app.app_context():
            deliver_pending()
        sent: list[dict[str, Any]] = self.app.extensions[MEMORY_OUTBOX]
        return sent

    def last(self) -> dict[str, Any]:
        return self.all()[-1]


@pytest.fixture
def mailbox(app: Flask) -> Mailbox:
    return Mailbox(app)


@pytest.fixture(autouse=True)
def _no_real_email(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that reaches for a real mail server fails (Indico's habit)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a test tried to send real e-mail")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    monkeypatch.setattr(smtplib, "SMTP_SSL", refuse)
