"""``flask backup ...``: a backup of the database, and a check that one restores and
opens with this deployment's keyring.

    flask backup create FILE   SQLite: the online backup API; PostgreSQL: pg_dump -Fc
    flask backup verify FILE   restore into a scratch database, open the data keys and a
                               sample of every sealed column and of the stored files

A backup holds only sealed values: the keyring (keys.json or PORTAL_KEYS) and the secret
key are never in it, and are backed up apart from it (see README). Nothing here prints a
decrypted value: only counts, and where a value failed (table, column, row id).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hmac
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import Row, Select, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine, create_engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from portal import files, keystore
from portal.config import current_settings
from portal.crypto.envelope import DecryptionError, key_id_of
from portal.crypto.keyring import Keyring, KeyringError
from portal.crypto.keys import KeyDroppedError, KeyManager
from portal.crypto.rotation import SealedColumn
from portal.crypto.stream import key_id_of_stream
from portal.extensions import db
from portal.models import StoredFileChunk

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"  # pg_dump's custom format (-Fc)
FORMATS = {"sqlite": "an SQLite database", "postgresql": "a pg_dump custom-format archive"}
SAMPLE = 20  # values opened per sealed column
NOT_A_BACKUP = (
    "is not a backup: neither an SQLite database nor a pg_dump custom-format archive (pg_dump -Fc)"
)

backup_cli = AppGroup("backup", help="Back up the database, and check a backup restores.")


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_create(file: Path) -> None:
    """Write a backup of the database to FILE (mode 0600), safely while the portal
    serves. The keyring and the secret key are not in it."""
    url = make_url(current_settings().database_url)
    with _written_privately(file) as partial:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(url.database, partial)
            how = "SQLite online backup"
        else:
            _pg_dump(partial)
            how = "pg_dump custom format"
    click.echo(f"Wrote {file} ({how}, {file.stat().st_size:,} bytes, mode 0600)")
    click.echo(
        "The keyring (keys.json or PORTAL_KEYS) and the secret key are not in it: back them "
        f"up separately. Check the backup with `flask backup verify {file}`."
    )


@backup_cli.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_verify(file: Path) -> None:
    """Restore FILE into a scratch database, open its data keys with this keyring and
    decrypt a sample of every sealed column. Exits 1 unless every sampled value opens
    (values under destroyed keys are counted apart, as expected)."""
    kind = backup_kind(file)
    click.echo(f"{file}: {FORMATS[kind]}, {file.stat().st_size:,} bytes")
    restore = _restored_sqlite if kind == "sqlite" else _restored_postgres
    with restore(file) as engine, engine.connect() as connection:
        revision = _schema_revision(connection)
        checked = check_restored(connection, keystore.keyring())
    _report(checked, revision)


@dataclass
class Tally:
    """What a sample of one sealed column gave."""

    label: str
    sampled: int = 0
    opened: int = 0
    destroyed: int = 0  # under a destroyed (crypto-shredded) key: expected to fail
    absent: bool = False  # not in the backup's schema (an older one)
    failures: list[str] = field(default_factory=list)

    def open(
        self, manager: KeyManager, read: Callable[[], object], key_id: Callable[[], int]
    ) -> None:
        self.sampled += 1
        try:
            read()
        except DecryptionError as error:
            # A key destroyed since, or one whose retention month the ratchet has moved
            # past (a backup from before its case was destroyed): gone, as intended.
            if isinstance(error, KeyDroppedError) or _under_destroyed_key(manager, key_id):
                self.destroyed += 1
            else:
                self.failures.append(str(error))
        else:
            self.opened += 1


@dataclass
class Checked:
    data_keys: int
    tallies: list[Tally]


def backup_kind(file: Path) -> str:
    """'sqlite' or 'postgresql', from the file's first bytes; ClickException otherwise."""
    try:
        with file.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise click.ClickException(f"{file}: no such file") from None
    except OSError as error:
        raise click.ClickException(f"{file}: cannot be read ({error.strerror})") from None
    if header == SQLITE_HEADER:
        return "sqlite"
    if header.startswith(PG_DUMP_HEADER):
        return "postgresql"
    raise click.ClickException(f"{file} {NOT_A_BACKUP}")


def check_restored(connection: Connection, ring: Keyring) -> Checked:
    """Against a restored database: its data keys open with ``ring``, its index keys are
    ``ring``'s, and a sample of every sealed column and of the stored files opens."""
    if not inspect(connection).has_table(keystore.KEYS.name):
        raise click.ClickException(
            "the backup has no data keys: it predates field-level encryption (restore it, "
            "then `flask db upgrade` seals it)"
        )
    months = any(
        column["name"] == "retention_month"
        for column in inspect(connection).get_columns(keystore.KEYS.name)
    )
    manager = KeyManager(ring, keystore.DatabaseKeyStore(lambda: connection, months=months))
    try:
        data_keys = manager.verify()
    except KeyringError as error:
        raise click.ClickException(f"the backup does not open with this keyring: {error}") from None
    _check_index_keys(connection, ring)
    present = _columns_present(connection)
    tallies = [
        _sample_column(connection, manager, sealed, present) for sealed in keystore.sealed_columns()
    ]
    tallies.append(_sample_files(connection, manager, present))
    return Checked(data_keys, tallies)


def _check_index_keys(connection: Connection, ring: Keyring) -> None:
    """As keystore.check_index_keys, reading only: the backup's check values."""
    for key in ring.index:
        stored = connection.execute(
            select(keystore.INDEX.c.digest).where(
                keystore.INDEX.c.kind == keystore.INDEX_KEY_CHECK,
                keystore.INDEX.c.index_key_id == key.id,
            )
        ).scalar()
        if stored is not None and not hmac.compare_digest(
            bytes(stored), keystore.index_key_check(key)
        ):
            raise click.ClickException(
                f"the backup does not open with this keyring: index key {key.id} in the "
                "keyring is not the one the backup was indexed with. Is this the "
                "deployment's keys.json?"
            )


def _columns_present(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {
        table: {column["name"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def _sample_column(
    connection: Connection,
    manager: KeyManager,
    sealed: SealedColumn,
    present: dict[str, set[str]],
) -> Tally:
    query = select(sealed.id_column, sealed.column).where(sealed.column.is_not(None))
    tally, rows = _sample(connection, present, sealed.label, sealed.table.name, query)
    for row_id, blob in rows:
        tally.open(
            manager,
            functools.partial(
                manager.unseal, sealed.logical_table, sealed.logical_column, row_id, blob
            ),
            functools.partial(key_id_of, blob, f"{sealed.label} of row {row_id}"),
        )
    return tally


def _sample_files(
    connection: Connection, manager: KeyManager, present: dict[str, set[str]]
) -> Tally:
    query = select(StoredFileChunk.file_id, StoredFileChunk.data).where(
        StoredFileChunk.seq == 0  # the header, which names the key
    )
    chunks = StoredFileChunk.__tablename__
    tally, headers = _sample(connection, present, files.LABEL, chunks, query)
    for file_id, header in headers:
        tally.open(
            manager,
            functools.partial(_read_file, connection, manager, file_id),
            functools.partial(key_id_of_stream, header),
        )
    return tally


def _sample(
    connection: Connection,
    present: dict[str, set[str]],
    label: str,
    table: str,
    query: Select[Any, Any],
) -> tuple[Tally, Sequence[Row[Any, Any]]]:
    """A tally for one column, and up to SAMPLE of the query's rows picked at random:
    none when the backup's schema has no such column (an older schema)."""
    tally = Tally(label)
    wanted = {str(column.key) for column in query.selected_columns}
    if not wanted <= present.get(table, set()):
        tally.absent = True
        return tally, []
    return tally, connection.execute(query.order_by(func.random()).limit(SAMPLE)).all()


def _read_file(connection: Connection, manager: KeyManager, file_id: Any) -> None:
    parts = files._parts(connection, file_id)
    for _chunk in manager.open_stream(files.TABLE, files.COLUMN, file_id, parts):
        pass  # each chunk is authenticated as it is read; nothing is kept


def _under_destroyed_key(manager: KeyManager, key_id: Callable[[], int]) -> bool:
    try:
        stored = manager.store.get(key_id())
    except DecryptionError:
        return False  # not even a readable header
    return stored is not None and stored.state == "destroyed"


def _report(checked: Checked, revision: str) -> None:
    click.echo(
        f"Data keys: all {checked.data_keys} wrapped by the keyring open with it (case "
        "keys open with their values, below)"
    )
    width = max(len(tally.label) for tally in checked.tallies)
    click.echo(f"Sealed values, a sample of up to {SAMPLE} a column:")
    click.echo(f"  {'column':{width}}  sampled  opened  destroyed")
    for tally in checked.tallies:
        if tally.absent:
            click.echo(f"  {tally.label:{width}}  not in this backup's schema")
            continue
        click.echo(
            f"  {tally.label:{width}}  {tally.sampled:7}  {tally.opened:6}  {tally.destroyed:9}"
        )
    failed = [tally for tally in checked.tallies if tally.failures]
    for tally in failed:
        click.echo(
            f"{tally.label}: {len(tally.failures)} FAIL to decrypt; first: {tally.failures[0]}",
            err=True,
        )
    sampled = sum(tally.sampled for tally in checked.tallies)
    if failed:
        failures = sum(len(tally.failures) for tally in failed)
        raise click.ClickException(
            f"Backup not verified: {failures} of {sampled} sampled value(s) fail to decrypt"
        )
    opened = sum(tally.opened for tally in checked.tallies)
    destroyed = sum(tally.destroyed for tally in checked.tallies)
    columns = sum(1 for tally in checked.tallies if tally.sampled)
    click.echo(
        f"Backup verified: {opened} sampled value(s) in {columns} column(s) open with this "
        f"keyring; {destroyed} under destroyed keys, as expected; schema {revision}"
    )


def _schema_revision(connection: Connection) -> str:
    """The backup's migration revision, compared with the code's (a warning if not the
    same: the backup restores, then needs `flask db upgrade`, or newer code)."""
    try:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        revisions = sorted(found)
    except DBAPIError:
        raise click.ClickException(
            "the backup is not of a portal database: it has no alembic_version table"
        ) from None
    revision = ", ".join(revisions) or "none"
    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    heads = sorted(scripts.get_heads())
    if revisions == heads:
        click.echo(f"Schema revision: {revision}, as this code's")
        return revision
    try:
        known = all(scripts.get_revision(r) is not None for r in revisions)
    except CommandError:
        known = False
    advice = (
        "older than this code's: after restoring it, run `flask db upgrade`"
        if known
        else "not one this code knows (newer code made it?): restore it with that code"
    )
    click.echo(
        f"Warning: the backup's schema revision is {revision}, this code's is "
        f"{', '.join(heads)}; {advice}",
        err=True,
    )
    return revision


# Making the backup


@contextlib.contextmanager
def _written_privately(target: Path) -> Iterator[Path]:
    """A new file, mode 0600 from the start, put in place as ``target`` only once it is
    complete: a failed backup leaves nothing that looks like one."""
    if target.exists():
        raise click.ClickException(f"{target} already exists: choose a new file name")
    partial = target.with_name(f".{target.name}.partial")
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise click.ClickException(
            f"{partial} exists: another backup is being written (remove it if not)"
        ) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {target}: {error.strerror}") from None
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _sqlite_backup(database: str | None, destination: Path) -> None:
    """SQLite's online backup API: a consistent copy while the portal reads and writes
    (in WAL mode writers go on meanwhile), as one self-contained file."""
    if not database or database == ":memory:" or not Path(database).is_file():
        raise click.ClickException(f"the database {database or '(in memory)'} is not a file")
    try:
        with (
            contextlib.closing(sqlite3.connect(database)) as source,
            contextlib.closing(sqlite3.connect(destination)) as copy,
        ):
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside it
    except sqlite3.Error as error:
        raise click.ClickException(f"the backup failed: {error}") from None


def _pg_dump(destination: Path) -> None:
    conninfo, env = libpq_connection(current_settings().database_url)
    with destination.open("wb") as out:
        result = subprocess.run(  # noqa: S603 (the tool's path and our own arguments)
            [client_tool("pg_dump"), "--format=custom", "--dbname", conninfo],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
        )
        out.flush()
        os.fsync(out.fileno())
    if result.returncode:
        raise click.ClickException(f"pg_dump failed: {_first_error('pg_dump', result.stderr)}")


# Restoring into a scratch database


@contextlib.contextmanager
def _restored_sqlite(file: Path) -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="portal-verify-") as folder:  # mode 0700
        copy = Path(folder) / "restored.db"
        shutil.copyfile(file, copy)
        engine = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
        try:
            try:
                with engine.connect() as connection:
                    result = connection.exec_driver_sql("PRAGMA integrity_check").scalars()
                    problems = [line for line in result if line != "ok"]
            except DBAPIError as error:
                problems = [str(error.orig)]
            if problems:
                raise click.ClickException(
                    f"{file} is truncated or damaged: SQLite says {problems[0]}"
                )
            click.echo("Restored into a scratch database: SQLite's integrity check is ok")
            yield engine
        finally:
            engine.dispose()


@contextlib.contextmanager
def _restored_postgres(file: Path) -> Iterator[Engine]:
    """pg_restore into a new database on the portal's own server, dropped afterwards."""
    database_url = current_settings().database_url
    if make_url(database_url).get_backend_name() != "postgresql":
        raise click.ClickException(
            "a PostgreSQL backup is checked on the portal's PostgreSQL server, and this "
            "portal is configured with SQLite"
        )
    scratch = f"portal_verify_{secrets.token_hex(6)}"
    try:
        _autocommit(f'CREATE DATABASE "{scratch}"')
    except DBAPIError as error:
        raise click.ClickException(
            f"cannot create a scratch database to restore into ({_first_line(error.orig)}): "
            "run verify as a role that may create databases"
        ) from None
    engine = create_engine(make_url(database_url).set(database=scratch), poolclass=NullPool)
    try:
        conninfo, env = libpq_connection(database_url, database=scratch)
        result = subprocess.run(  # noqa: S603 (the tool's path and our own arguments)
            [
                client_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
                conninfo,
                str(file),
            ],
            capture_output=True,
            env=env,
            check=False,
        )
        if result.returncode:
            raise click.ClickException(
                f"{file} is truncated or damaged: pg_restore says: "
                f"{_first_error('pg_restore', result.stderr)}"
            )
        click.echo("Restored into a scratch database with pg_restore")
        yield engine
    finally:
        engine.dispose()
        try:
            _autocommit(f'DROP DATABASE IF EXISTS "{scratch}"')
        except DBAPIError as error:
            click.echo(
                f"Warning: could not drop the scratch database {scratch}: "
                f"{_first_line(error.orig)}",
                err=True,
            )


def _autocommit(statement: str) -> None:
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(statement)


# PostgreSQL's client tools


def libpq_connection(database_url: str, database: str | None = None) -> tuple[str, dict[str, str]]:
    """The settings' SQLAlchemy URL as the client tools take it (postgresql://, no
    driver), with the password in the environment rather than on the command line."""
    url = make_url(database_url)
    if database is not None:
        url = url.set(database=database)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url._replace(password=None).set(drivername="postgresql")  # set() keeps None
    return plain.render_as_string(hide_password=False), env


def client_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH, else the newest of Debian's versioned installs."""
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major_version)
    if installed:
        return installed[-1]
    raise click.ClickException(
        f"{name} is not installed: install the PostgreSQL client tools (Debian: "
        "postgresql-client) of the server's version or newer"
    )


def _major_version(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _first_error(tool: str, stderr: bytes) -> str:
    """The tool's first error line, without its "pg_restore: error: " prefix."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    first = next((line for line in lines if "error" in line.lower()), None)
    first = first or (lines[0] if lines else "no message")
    return first.removeprefix(f"{tool}: ").removeprefix("error: ")


def _first_line(error: BaseException | None) -> str:
    return (str(error).strip().splitlines() or ["no message"])[0]
