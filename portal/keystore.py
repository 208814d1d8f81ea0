"""The application's side of the encryption engine: data keys kept in the database,
the key manager of the running app, and the session hooks that seal values and keep
the blind indexes as rows are written.

Key rows are read and written in the caller's transaction (the ORM session's): a case's
key is created, and destroyed, together with the case's data, and on SQLite nothing
waits for a second connection while the session holds the write lock. A key made in a
transaction that then rolls back is dropped from the manager's cache, so nothing is
ever sealed under a key that does not exist.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, request
from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    event,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Mapper, Session

from portal.crypto import fields
from portal.crypto.blind_index import BlindIndex
from portal.crypto.keyring import Keyring, KeyringError, RingKey
from portal.crypto.keys import (
    DEPLOYMENT_ID,
    KeyConflictError,
    KeyManager,
    KeyOwner,
    StoredKey,
    UnitOfWork,
)
from portal.crypto.rotation import SealedColumn
from portal.extensions import db
from portal.models import Base, BlindIndexEntry, DataKey, WebSession, utcnow
from portal.models.base import insert_unless_exists

log = logging.getLogger(__name__)

M = TypeVar("M")

EXTENSION = "portal.crypto"
VERIFIED = "portal.keys_verified"
KEYS = cast(Table, DataKey.__table__)
INDEX = cast(Table, BlindIndexEntry.__table__)


class DatabaseKeyStore:
    """Data keys in the ``data_keys`` table, on the connection ``connection_provider``
    gives: the session's (the app), or a migration's own. Nothing here commits: the
    caller's transaction does, or undoes, it all."""

    def __init__(
        self, connection_provider: Callable[[], Connection], *, months: bool = True
    ) -> None:
        self._connection = connection_provider
        # A migration from before keys had retention months reads the table without.
        self._months = months
        self._columns = [c for c in KEYS.c if months or c.name != "retention_month"]

    def get(self, key_id: int) -> StoredKey | None:
        row = self._connection().execute(select(*self._columns).where(KEYS.c.id == key_id)).first()
        return stored_key(row) if row else None

    def primary(self, owner: KeyOwner) -> StoredKey | None:
        row = (
            self._connection()
            .execute(
                select(*self._columns).where(
                    KEYS.c.owner_kind == owner.kind,
                    KEYS.c.owner_id == owner.id,
                    KEYS.c.state == "primary",
                )
            )
            .first()
        )
        return stored_key(row) if row else None

    def add(self, key: StoredKey) -> None:
        """Insert, unless the owner already has a primary key (another process made one
        a moment ago): then KeyConflictError, and the transaction is unharmed."""
        connection = self._connection()
        values = {
            "id": key.id,
            "owner_kind": key.owner.kind,
            "owner_id": key.owner.id,
            "owner_authority_id": key.owner.authority_id,
            "wrapped_by": key.wrapped_by,
            "wrapper_id": key.wrapper_id,
            "wrapped": key.wrapped,
            "sentinel": key.sentinel,
            "state": key.state,
            "created_at": utcnow(),
        }
        if self._months:
            values["retention_month"] = key.month
        insert_or_skip = insert_unless_exists(connection, KEYS).values(values).returning(KEYS.c.id)
        if connection.execute(insert_or_skip).first() is None:
            raise KeyConflictError(str(key.owner))

    def set_state(self, key_id: int, state: str) -> None:
        self._connection().execute(update(KEYS).where(KEYS.c.id == key_id).values(state=state))

    def rewrap(
        self,
        key_id: int,
        wrapped_by: str,
        wrapper_id: int,
        wrapped: bytes,
        owner_authority_id: uuid.UUID | None,
        month: int | None,
    ) -> None:
        self._connection().execute(
            update(KEYS)
            .where(KEYS.c.id == key_id)
            .values(
                wrapped_by=wrapped_by,
                wrapper_id=wrapper_id,
                wrapped=wrapped,
                owner_authority_id=owner_authority_id,
                **({"retention_month": month} if self._months else {}),
            )
        )

    def destroy(self, key_id: int) -> None:
        self._connection().execute(
            update(KEYS)
            .where(KEYS.c.id == key_id)
            .values(state="destroyed", wrapped=None, sentinel=None, destroyed_at=utcnow())
        )

    def all(self, states: Iterable[str]) -> list[StoredKey]:
        rows = (
            self._connection()
            .execute(
                select(*self._columns)
                .where(KEYS.c.state.in_(list(states)))
                .order_by(KEYS.c.created_at)
            )
            .all()
        )
        return [stored_key(row) for row in rows]


def stored_key(row: Any) -> StoredKey:
    return StoredKey(
        id=row.id,
        owner=KeyOwner(row.owner_kind, row.owner_id, row.owner_authority_id),
        wrapped_by=row.wrapped_by,
        wrapper_id=row.wrapper_id,
        wrapped=row.wrapped or b"",
        sentinel=row.sentinel or b"",
        state=row.state,
        month=getattr(row, "retention_month", None),
    )


def keys() -> KeyManager:
    """The running app's key manager."""
    manager = current_app.extensions[EXTENSION]
    if not isinstance(manager, KeyManager):
        raise RuntimeError("the app has no key manager")
    return manager


def keyring() -> Keyring:
    return keys().keyring


def init_app(app: Flask, ring: Keyring) -> None:
    app.extensions[EXTENSION] = KeyManager(
        ring, DatabaseKeyStore(_key_connection), unit_of_work=_unit_of_work
    )
    fields.configure(keys)
    for identifier, listener in SESSION_LISTENERS:
        if not event.contains(Session, identifier, listener):
            event.listen(Session, identifier, listener)
    if not event.contains(Mapper, "after_delete", _drop_entries_of_deleted_row):
        event.listen(Mapper, "after_delete", _drop_entries_of_deleted_row)


def verify_keys(app: Flask) -> int | None:
    """Open every keyring-wrapped data key; KeyringError if one does not open. None when
    the database cannot tell yet (not reachable, or not migrated): the check is then
    made again before the first request that reaches the database."""
    with app.app_context():
        try:
            checked = keys().verify()
            check_index_keys()
        except (OperationalError, ProgrammingError):
            db.session.rollback()
            return None
    app.extensions[VERIFIED] = True
    return checked


INDEX_KEY_CHECK = "index-key-check"


def check_index_keys() -> None:
    """Each index key leaves a check value (its HMAC of a constant) the first time it is
    used; later starts compare. A keyring with the wrong index key would otherwise start
    and quietly find no one. KeyringError if one differs."""
    ring = keyring()
    connection = db.session.connection()
    for key in ring.index:
        expected = index_key_check(key)
        connection.execute(
            insert_unless_exists(connection, INDEX).values(
                kind=INDEX_KEY_CHECK,
                owner_id=DEPLOYMENT_ID,
                index_key_id=key.id,
                digest=expected,
                is_unique=False,
            )
        )
        stored = connection.execute(
            select(INDEX.c.digest).where(
                INDEX.c.kind == INDEX_KEY_CHECK, INDEX.c.index_key_id == key.id
            )
        ).scalar_one()
        if not hmac.compare_digest(bytes(stored), expected):
            db.session.rollback()
            raise KeyringError(
                f"index key {key.id} in the keyring is not the one the database was "
                "indexed with. Is this the deployment's keys.json?"
            )
    db.session.commit()


def index_key_check(key: RingKey) -> bytes:
    """The check value an index key leaves in the database (see check_index_keys)."""
    return hmac.new(key.material, b"portal index key check", hashlib.sha256).digest()


def keys_verified() -> bool:
    """Whether this app has opened its keyring's data keys (trying now if not yet)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.extensions.get(VERIFIED):
        try:
            verify_keys(app)
        except KeyringError as error:
            log.critical("Refusing to serve: %s", error)
    return bool(app.extensions.get(VERIFIED))


def refuse_until_keys_verified() -> None:
    """before_request: the keys were not checked at start (the database was away), so
    check now, and serve nothing (503) until they open."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions.get(VERIFIED) or request.endpoint in ("static", "main.healthz"):
        return  # the health check reports on the keys itself
    try:
        if verify_keys(app) is None:
            abort(503)
    except KeyringError as error:
        log.critical("Refusing to serve: %s", error)
        abort(503)


# Session hooks: seal pending values before a flush, keep blind indexes after it.

REINDEX = "portal.reindex"


def _seal_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    manager: KeyManager | None = None
    new = session.new  # built afresh on each access: once, not once per row
    for obj in list(new) + list(session.dirty):
        encrypted = fields.encrypted_fields(type(obj))
        if not encrypted:
            continue
        if getattr(obj, "id", None) is None:
            obj.id = uuid.uuid4()  # values are bound to their row: the id comes first
        # A new row's values are sealed in this transaction: any sealed before (by a
        # flush that was rolled back) may be under a key that is gone. A row that moves
        # to another owner moves to that owner's key.
        if obj in new or _owner_changed(obj):
            for field in encrypted:
                field.make_pending(obj)
        manager = manager or keys()
        changed = {field.name for field in encrypted if field.seal_pending(obj, manager)}
        indexes = [
            index
            for index in getattr(type(obj), "__blind_indexes__", ())
            if changed & set(index.fields)
        ]
        if indexes:
            session.info.setdefault(REINDEX, []).append((obj, indexes))


def _owner_changed(obj: Any) -> bool:
    state = inspect(obj)
    return any(
        state.attrs[name].history.has_changes() for name in fields.owner_spec(type(obj)).attributes
    )


def _drop_entries_of_deleted_row(mapper: Any, connection: Connection, target: Any) -> None:
    """Every ORM delete, cascades included: a deleted row's index entries go with it."""
    if getattr(type(target), "__blind_indexes__", ()):
        connection.execute(delete(INDEX).where(INDEX.c.owner_id == target.id))


def _index_after_flush(session: Session, flush_context: Any) -> None:
    work = session.info.pop(REINDEX, [])
    if not work:
        return
    ring = keyring()
    connection = session.connection()
    for obj, indexes in work:
        for index in indexes:
            write_entries(connection, ring, index, obj.id, [getattr(obj, f) for f in index.fields])


def write_entries(
    connection: Any, ring: Keyring, index: BlindIndex, owner_id: uuid.UUID, values: Sequence[Any]
) -> None:
    """Replace an owner's entries of one index kind, under every index key."""
    connection.execute(
        delete(INDEX).where(INDEX.c.kind == index.kind, INDEX.c.owner_id == owner_id)
    )
    if any(value is None for value in values):
        return
    connection.execute(
        insert(INDEX),
        [
            {
                "kind": index.kind,
                "owner_id": owner_id,
                "index_key_id": key_id,
                "digest": digest,
                "is_unique": index.unique,
            }
            for key_id, digest in index.digests(ring, values)
        ],
    )


def _forget_pending_index_work(session: Session, previous_transaction: Any) -> None:
    session.info.pop(REINDEX, None)


# A connection with a transaction of its own that values are being sealed for (see
# keys_written_with), and that transaction's keys.
_BORROWED: ContextVar[tuple[Connection, UnitOfWork] | None] = ContextVar(
    "portal_keys_connection", default=None
)
UNIT_OF_WORK = "portal.keys_unit_of_work"


def _key_connection() -> Connection:
    borrowed = _BORROWED.get()
    return borrowed[0] if borrowed else db.session.connection()


def _unit_of_work() -> UnitOfWork:
    """The keys made in the current transaction: the borrowed connection's, else the
    session's (kept in its info until its transaction ends)."""
    borrowed = _BORROWED.get()
    if borrowed:
        return borrowed[1]
    info = db.session().info
    work = info.get(UNIT_OF_WORK)
    if work is None:
        work = info[UNIT_OF_WORK] = UnitOfWork()
    return cast(UnitOfWork, work)


@contextlib.contextmanager
def keys_written_with(connection: Connection) -> Iterator[None]:
    """For code that writes sealed values on a connection of its own rather than the
    session's (the session store): a key made meanwhile goes in that connection's
    transaction, with the values it seals. On SQLite the session could not write it
    anyway while this connection holds the lock."""
    token = _BORROWED.set((connection, UnitOfWork()))
    try:
        yield
    finally:
        _BORROWED.reset(token)  # its keys are read again once committed


def _keys_rolled_back(session: Session) -> None:
    """A rollback, of the transaction or of a savepoint: keys made in it are gone."""
    work = session.info.get(UNIT_OF_WORK)
    if work is not None:
        work.rolled_back()


def _transaction_ended(session: Session, transaction: Any) -> None:
    """Committed keys are cached for the process when next read; rolled back, they never
    existed. Either way this transaction's own cache goes."""
    if transaction.parent is None:
        session.info.pop(UNIT_OF_WORK, None)


SESSION_LISTENERS = (
    ("before_flush", _seal_before_flush),
    ("after_flush", _index_after_flush),
    ("after_soft_rollback", _forget_pending_index_work),
    ("after_rollback", _keys_rolled_back),
    ("after_transaction_end", _transaction_ended),
)


# Look-ups through the blind indexes


def find(model: type[M], index: BlindIndex, **by_field: Any) -> list[M]:
    """The rows of ``model`` whose fields equal the values given by field name:
    candidates through the index and the rows themselves in one query, confirmed by
    decrypting (BlindIndex.matcher)."""
    values = index.ordered(by_field)
    digests = index.digests(keyring(), values)
    statement = _rows_matching(cast(type, model), index.kind, len(digests))
    rows: Iterable[M] = db.session.scalars(statement, _params(digests))
    matches = index.matcher(values)
    return [row for row in rows if matches(functools.partial(getattr, row))]


def find_ids(model: type, index: BlindIndex, **by_field: Any) -> list[uuid.UUID]:
    """The ids of the rows ``find`` would return, read without building ORM objects: only
    the indexed fields are fetched and decrypted. For "has this person been seen before?"
    among many people."""
    values = index.ordered(by_field)
    digests = index.digests(keyring(), values)
    statement = _sealed_fields_matching(model, index, len(digests))
    table = fields.logical_table(model)
    opened = {name: fields.encrypted_field(model, name) for name in index.fields}
    manager = keys()
    matches = index.matcher(values)
    found = []
    for row in db.session.connection().execute(statement, _params(digests)).mappings():
        row_id = str(row["id"])

        def read(name: str, row: Any = row, row_id: str = row_id) -> Any:
            return opened[name].open(manager, table, row_id, row[name])

        if matches(read):
            found.append(row["id"])
    return found


def candidates(index: BlindIndex, **by_field: Any) -> list[uuid.UUID]:
    """The owners whose entries match, unconfirmed: for a truncated index, everyone in
    the value's bucket."""
    digests = index.digests(keyring(), index.ordered(by_field))
    return list(db.session.scalars(_owners_matching(index.kind, len(digests)), _params(digests)))


# The look-up statements are built once per shape, not per look-up: building and keying a
# fresh statement costs more than the indexed query itself.


@functools.cache
def _owners_matching(kind: str, key_count: int) -> Select[tuple[uuid.UUID]]:
    """Owners with an entry of this kind matching any of ``key_count`` (index key id,
    digest) pairs, one per index key in the keyring (two during a rotation)."""
    pairs = [
        (INDEX.c.index_key_id == bindparam(f"key_{n}"))
        & (INDEX.c.digest == bindparam(f"digest_{n}"))
        for n in range(key_count)
    ]
    return select(INDEX.c.owner_id).where(INDEX.c.kind == kind, or_(*pairs)).distinct()


@functools.cache
def _rows_matching(model: type, kind: str, key_count: int) -> Select[Any]:
    (row_id,) = cast(Sequence[Any], inspect(model).primary_key)
    return select(model).where(row_id.in_(_owners_matching(kind, key_count)))


@functools.cache
def _sealed_fields_matching(model: type, index: BlindIndex, key_count: int) -> Select[Any]:
    """The id and the indexed fields' sealed bytes, labelled with the fields' names."""
    (row_id,) = cast(Sequence[Any], inspect(model).primary_key)
    table = cast(Table, cast(Any, model).__table__)
    columns = [
        table.c[fields.encrypted_field(model, name).column or name].label(name)
        for name in index.fields
    ]
    return select(row_id.label("id"), *columns).where(
        row_id.in_(_owners_matching(index.kind, key_count))
    )


def _params(digests: Sequence[tuple[int, bytes]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for n, (key_id, digest) in enumerate(digests):
        params[f"key_{n}"] = key_id
        params[f"digest_{n}"] = digest
    return params


def sealed_columns() -> list[SealedColumn]:
    """Every column of sealed values in the schema: the encrypted model attributes, and
    the session store's data."""
    columns = []
    for mapper in sorted(Base.registry.mappers, key=lambda m: m.class_.__name__):
        cls = mapper.class_
        for field in fields.encrypted_fields(cls):
            table = cast(Table, cls.__table__)
            spec = fields.owner_spec(cls)
            columns.append(
                SealedColumn(
                    table=table,
                    logical_table=fields.logical_table(cls),
                    logical_column=field.column or field.name,
                    column=table.c[field.column or field.name],
                    id_column=table.c.id,
                    owner=spec,
                    owner_columns=tuple(table.c[name] for name in spec.attributes),
                )
            )
    sessions = cast(Table, WebSession.__table__)
    columns.append(
        SealedColumn(
            sessions,
            "web_sessions",
            "data",
            sessions.c.data,
            sessions.c.token_hash,
            fields.OwnerSpec.deployment(),
        )
    )
    return columns


def indexed_models() -> list[tuple[type, BlindIndex]]:
    return [
        (mapper.class_, index)
        for mapper in Base.registry.mappers
        for index in getattr(mapper.class_, "__blind_indexes__", ())
    ]


def reindex(batch: int = 500) -> int:
    """Write every blind index entry again under every index key in the keyring, and
    drop entries of index keys no longer in it. Returns how many owners were indexed."""
    ring = keyring()
    known = [key.id for key in ring.index]
    db.session.execute(delete(INDEX).where(INDEX.c.index_key_id.not_in(known)))
    done = 0
    for cls, index in indexed_models():
        # Written again from the rows: entries whose row has gone go too.
        db.session.execute(delete(INDEX).where(INDEX.c.kind == index.kind))
        rows: Any = db.session.scalars(select(cls)).yield_per(batch)
        for obj in rows:
            write_entries(
                db.session.connection(),
                ring,
                index,
                obj.id,
                [getattr(obj, name) for name in index.fields],
            )
            done += 1
    check_index_keys()  # commits
    return done
