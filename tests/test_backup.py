"""``flask backup create`` and ``flask backup verify``: a backup taken from a portal
with data restores, opens with the deployment's keyring and reads through the portal;
a damaged file, something that is not a backup, or a backup under another keyring fails
with one clear line and a non-zero exit."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import text

from portal import create_app, destruction, files, keystore, retention_keys
from portal.backup import client_tool, libpq_connection
from portal.crypto.keyring import new_keyring
from portal.crypto.keys import KeyOwner
from portal.extensions import db
from portal.models import Case, Role, User, utcnow
from portal.workdays import uk_date
from tests.conftest import TEST_KEYRING, Database, settings_for_tests
from tests.factories import make_account, make_authority, make_organisation
from tests.postgres import create_database

ALLEGATION = "What the referrer saw in the hall"


def _case(app: Flask, authority_id: uuid.UUID, creator: uuid.UUID) -> uuid.UUID:
    """A case with sealed fields and a sealed file, all under the case's own key."""
    organisation_id = make_organisation(app, [authority_id])
    with app.app_context():
        case = Case(
            id=uuid.uuid4(),
            authority_id=authority_id,
            organisation_id=organisation_id,
            created_by_id=creator,
            referrer_name="Ada Referrer",
            allegation=ALLEGATION,
        )
        db.session.add(case)
        db.session.flush()
        files.store(KeyOwner.case(case.id, authority_id), [b"minutes of the meeting"])
        db.session.commit()
        return case.id


def _portal_with_data(app: Flask) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Returns an account's id, a case's id and its authority's."""
    authority_id = make_authority(app)
    lado = make_account(app, Role.LADO, authority_id=authority_id, full_name="Lado Person")
    make_account(app, Role.AUTHORITY_ADMIN, authority_id=authority_id)
    return lado.id, _case(app, authority_id, lado.id), authority_id


def _backup(app: Flask, folder: Path) -> Path:
    file = folder / "portal.backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(file)])
    assert result.exit_code == 0, result.output
    assert "keyring" in result.output  # the reminder: the keys are not in it
    return file


def _verify(app: Flask, file: Path) -> Result:
    return app.test_cli_runner().invoke(args=["backup", "verify", str(file)])


def _row(output: str, label: str) -> tuple[int, int, int]:
    """(sampled, opened, destroyed) of one column in verify's summary."""
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0] == label:
            sampled, opened, destroyed = (int(part) for part in parts[1:4])
            return sampled, opened, destroyed
    raise AssertionError(f"{label} is not in the summary:\n{output}")


def _failed_in_one_line(result: Result, expected: str) -> None:
    assert result.exit_code != 0, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert expected in errors[0]
    assert "Traceback" not in result.output


def test_a_backup_verifies_and_restores(app: Flask, database: Database, tmp_path: Path) -> None:
    user_id, case_id, _authority_id = _portal_with_data(app)
    file = _backup(app, tmp_path)
    assert file.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob("*.partial"))

    result = _verify(app, file)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("Backup verified: ")
    assert _row(result.output, "users.full_name") == (2, 2, 0)
    assert _row(result.output, "cases.allegation") == (1, 1, 0)
    assert _row(result.output, "stored_files.content") == (1, 1, 0)
    assert ALLEGATION not in result.output  # counts only, never a value
    assert "Lado Person" not in result.output
    assert not _scratch_databases(app)

    # A restore, read through the portal itself.
    with _restored(database, file, tmp_path) as url:
        restored = create_app(settings_for_tests(url, tmp_path))
        with restored.app_context():
            assert db.session.get_one(User, user_id).full_name == "Lado Person"
            assert db.session.get_one(Case, case_id).allegation == ALLEGATION
            db.engine.dispose()


@contextlib.contextmanager
def _restored(database: Database, file: Path, folder: Path) -> Iterator[str]:
    """The backup restored as the README says; yields its database URL."""
    if database.kind == "sqlite":
        copy = folder / "restored.db"
        shutil.copyfile(file, copy)
        yield f"sqlite:///{copy}"
        return
    server = database.url.rsplit("/", 1)[0]
    name = f"portal_restored_{secrets.token_hex(4)}"
    url = create_database(server, name)
    try:
        conninfo, env = libpq_connection(url)
        subprocess.run(
            [client_tool("pg_restore"), "--no-owner", "--dbname", conninfo, str(file)],
            check=True,
            capture_output=True,
            env=env,
        )
        yield url
    finally:
        maintenance, env = libpq_connection(url, database="postgres")
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_values_under_a_destroyed_case_key_are_counted_apart(app: Flask, tmp_path: Path) -> None:
    user_id, shredded, authority_id = _portal_with_data(app)
    _case(app, authority_id, user_id)  # a second case, still readable
    with app.app_context():
        manager = keystore.keys()
        key_id = manager.existing_primary_key_id(KeyOwner.case(shredded, authority_id))
        assert key_id is not None
        manager.destroy(key_id)  # crypto-shredded, its rows left in place
        db.session.commit()
    result = _verify(app, _backup(app, tmp_path))
    assert result.exit_code == 0, result.output
    assert _row(result.output, "cases.allegation") == (2, 1, 1)
    assert _row(result.output, "stored_files.content") == (2, 1, 1)
    assert "FAIL" not in result.output


def test_a_backup_from_before_a_destruction_counts_it_destroyed_once_the_ratchet_moves(
    app: Flask, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """The backup was taken while the case lived; the case was then destroyed and the
    retention ratchet moved past its month: the backup opens everything but that case."""
    user_id, shredded, authority_id = _portal_with_data(app)
    _case(app, authority_id, user_id)  # a second case, with no retention date yet
    with app.app_context():
        case = db.session.get_one(Case, shredded)
        case.retained_until = date(2020, 1, 1)  # long past: wrapped under this month
        db.session.commit()
    file = _backup(app, tmp_path)
    with app.app_context():
        destruction.destroy_case(db.session.get_one(Case, shredded))
        db.session.commit()
        moved_ring, _, _ = retention_keys.ratchet(uk_date(utcnow()) + timedelta(days=40))
        db.session.commit()
    result = _verify(make_app(keyring=moved_ring), file)
    assert result.exit_code == 0, result.output
    assert _row(result.output, "cases.allegation") == (2, 1, 1)
    assert _row(result.output, "stored_files.content") == (2, 1, 1)


def test_a_truncated_backup_fails(app: Flask, tmp_path: Path) -> None:
    _portal_with_data(app)
    whole = _backup(app, tmp_path).read_bytes()
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(whole[: len(whole) // 2])
    _failed_in_one_line(_verify(app, truncated), "is truncated or damaged")
    assert not _scratch_databases(app)


def test_a_file_that_is_not_a_backup_fails(app: Flask, tmp_path: Path) -> None:
    random = tmp_path / "random.bin"
    random.write_bytes(os.urandom(4096))
    _failed_in_one_line(_verify(app, random), "is not a backup")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    _failed_in_one_line(_verify(app, empty), "is not a backup")
    _failed_in_one_line(_verify(app, tmp_path / "missing.backup"), "no such file")


@pytest.mark.parametrize("other", ["keyring", "index key"])
def test_a_backup_under_another_keyring_fails(
    app: Flask, database: Database, make_app: object, tmp_path: Path, other: str
) -> None:
    _portal_with_data(app)
    with app.app_context():
        keystore.check_index_keys()  # as the portal's first start did
    file = _backup(app, tmp_path)
    database.reset(app)  # another deployment, with its own keyring, on the same server
    ring = new_keyring()
    if other == "index key":  # the right key-encryption key, another index key
        ring = dataclasses.replace(TEST_KEYRING, index=ring.index)
    elsewhere = make_app(keyring=ring)  # type: ignore[operator]
    result = _verify(elsewhere, file)
    _failed_in_one_line(result, "Is this the deployment's keys.json?")
    assert ("index key 1" in result.output) == (other == "index key")
    assert not _scratch_databases(elsewhere)


def _scratch_databases(app: Flask) -> list[str]:
    """verify's scratch databases left on the PostgreSQL server (none, ever)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return []
        with db.engine.connect() as connection:
            query = "SELECT datname FROM pg_database WHERE datname LIKE 'portal_verify_%'"
            return list(connection.execute(text(query)).scalars())


def test_create_never_overwrites(app: Flask, tmp_path: Path) -> None:
    existing = tmp_path / "portal.backup"
    existing.write_bytes(b"an older backup")
    result = app.test_cli_runner().invoke(args=["backup", "create", str(existing)])
    _failed_in_one_line(result, "already exists")
    assert existing.read_bytes() == b"an older backup"


def test_a_backup_of_an_older_schema_is_reported(
    app: Flask, database: Database, tmp_path: Path
) -> None:
    _portal_with_data(app)
    file = _backup(app, tmp_path)
    if database.kind != "sqlite":
        return  # the revision is edited in the SQLite file; pg_dump's archive is opaque
    with contextlib.closing(sqlite3.connect(file)) as connection, connection:
        head = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        connection.execute("UPDATE alembic_version SET version_num = 'df38b0173cdd'")
    result = _verify(app, file)
    assert result.exit_code == 0, result.output  # it still restores and opens
    assert f"schema revision is df38b0173cdd, this code's is {head}" in result.output
    assert "run `flask db upgrade`" in result.output


def test_the_client_tools_get_no_password_on_their_command_line() -> None:
    conninfo, env = libpq_connection(
        "postgresql+psycopg://portal:s3cret@db.internal:5432/portal?sslmode=require",
        database="scratch",
    )
    assert conninfo == "postgresql://portal@db.internal:5432/scratch?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret"
