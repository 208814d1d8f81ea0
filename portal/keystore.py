"""The application's side of the encryption engine: data keys kept in the database,
the key manager of the running app, and the session hooks that seal values and keep
the blind indexes as rows are written.

Key rows are read and written on their own short transactions (the engine, not the ORM
session), so creating an owner's first key never depends on the request's unit of work.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

from flask import Flask, abort, current_app, request
from sqlalchemy import Select, Table, delete, event, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from portal.crypto import fields
from portal.crypto.blind_index import BlindIndex
from portal.crypto.keyring import Keyring, KeyringError
from portal.crypto.keys import KeyConflictError, KeyManager, KeyOwner, StoredKey
from portal.crypto.rotation import SealedColumn
from portal.extensions import db
from portal.models import Base, BlindIndexEntry, DataKey, WebSession, utcnow

log = logging.getLogger(__name__)

EXTENSION = "portal.crypto"
VERIFIED = "portal.keys_verified"
KEYS = cast(Table, DataKey.__table__)
INDEX = cast(Table, BlindIndexEntry.__table__)


class DatabaseKeyStore:
    """Data keys in the ``data_keys`` table. ``engine_provider`` gives anything with
    ``connect()`` and ``begin()``: the app's engine, or (in a migration) one connection."""

    def __init__(self, engine_provider: Any) -> None:
        self._engine = engine_provider

    def get(self, key_id: int) -> StoredKey | None:
        with self._engine().connect() as connection:
            row = connection.execute(select(KEYS).where(KEYS.c.id == key_id)).first()
        return _stored(row) if row else None

    def primary(self, owner: KeyOwner) -> StoredKey | None:
        with self._engine().connect() as connection:
            row = connection.execute(
                select(KEYS).where(
                    KEYS.c.owner_kind == owner.kind,
                    KEYS.c.owner_id == owner.id,
                    KEYS.c.state == "primary",
                )
            ).first()
        return _stored(row) if row else None

    def add(self, key: StoredKey) -> None:
        try:
            with self._engine().begin() as connection:
                connection.execute(
                    insert(KEYS).values(
                        id=key.id,
                        owner_kind=key.owner.kind,
                        owner_id=key.owner.id,
                        owner_authority_id=key.owner.authority_id,
                        wrapped_by=key.wrapped_by,
                        wrapper_id=key.wrapper_id,
                        wrapped=key.wrapped,
                        sentinel=key.sentinel,
                        state=key.state,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            raise KeyConflictError(str(key.owner)) from None

    def set_state(self, key_id: int, state: str) -> None:
        with self._engine().begin() as connection:
            connection.execute(update(KEYS).where(KEYS.c.id == key_id).values(state=state))

    def rewrap(self, key_id: int, wrapped_by: str, wrapper_id: int, wrapped: bytes) -> None:
        with self._engine().begin() as connection:
            connection.execute(
                update(KEYS)
                .where(KEYS.c.id == key_id)
                .values(wrapped_by=wrapped_by, wrapper_id=wrapper_id, wrapped=wrapped)
            )

    def destroy(self, key_id: int) -> None:
        with self._engine().begin() as connection:
            connection.execute(
                update(KEYS)
                .where(KEYS.c.id == key_id)
                .values(state="destroyed", wrapped=None, sentinel=None, destroyed_at=utcnow())
            )

    def all(self, states: Iterable[str]) -> list[StoredKey]:
        with self._engine().connect() as connection:
            rows = connection.execute(
                select(KEYS).where(KEYS.c.state.in_(list(states))).order_by(KEYS.c.created_at)
            ).all()
        return [_stored(row) for row in rows]


def _stored(row: Any) -> StoredKey:
    return StoredKey(
        id=row.id,
        owner=KeyOwner(row.owner_kind, row.owner_id, row.owner_authority_id),
        wrapped_by=row.wrapped_by,
        wrapper_id=row.wrapper_id,
        wrapped=row.wrapped or b"",
        sentinel=row.sentinel or b"",
        state=row.state,
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
    app.extensions[EXTENSION] = KeyManager(ring, DatabaseKeyStore(lambda: db.engine))
    fields.configure(keys)
    for identifier, listener in SESSION_LISTENERS:
        if not event.contains(Session, identifier, listener):
            event.listen(Session, identifier, listener)


def verify_keys(app: Flask) -> int | None:
    """Open every keyring-wrapped data key; KeyringError if one does not open. None when
    the database cannot tell yet (not reachable, or not migrated): the check is then
    made again before the first request that reaches the database."""
    with app.app_context():
        try:
            checked = keys().verify()
        except (OperationalError, ProgrammingError):
            db.session.rollback()
            return None
    app.extensions[VERIFIED] = True
    return checked


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
    for obj in list(session.new) + list(session.dirty):
        encrypted = fields.encrypted_fields(type(obj))
        if not encrypted:
            continue
        if getattr(obj, "id", None) is None:
            obj.id = uuid.uuid4()  # values are bound to their row: the id comes first
        manager = manager or keys()
        changed = {field.name for field in encrypted if field.seal_pending(obj, manager)}
        indexes = [
            index
            for index in getattr(type(obj), "__blind_indexes__", ())
            if changed & set(index.fields)
        ]
        if indexes:
            session.info.setdefault(REINDEX, []).append((obj, indexes))
    for obj in session.deleted:
        if getattr(type(obj), "__blind_indexes__", ()):
            session.info.setdefault(REINDEX, []).append((obj, None))


def _index_after_flush(session: Session, flush_context: Any) -> None:
    work = session.info.pop(REINDEX, [])
    if not work:
        return
    ring = keyring()
    connection = session.connection()
    for obj, indexes in work:
        if indexes is None:  # deleted: its entries go too
            connection.execute(delete(INDEX).where(INDEX.c.owner_id == obj.id))
            continue
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


SESSION_LISTENERS = (
    ("before_flush", _seal_before_flush),
    ("after_flush", _index_after_flush),
    ("after_soft_rollback", _forget_pending_index_work),
)


# Look-ups through the blind indexes


def matching_owners(index: BlindIndex, values: Sequence[Any]) -> Select[tuple[uuid.UUID]]:
    """A subquery of the owners whose entries match, under any index key in the keyring,
    to use as ``Model.id.in_(...)``: one round trip for index and rows together. For a
    truncated index these are candidates: confirm by comparing the decrypted values."""
    conditions = [
        (INDEX.c.index_key_id == key_id) & (INDEX.c.digest == digest)
        for key_id, digest in index.digests(keyring(), values)
    ]
    return select(INDEX.c.owner_id).where(INDEX.c.kind == index.kind, or_(*conditions))


def candidates(index: BlindIndex, values: Sequence[Any]) -> list[uuid.UUID]:
    """The matching owners' ids (see matching_owners)."""
    return list(db.session.scalars(matching_owners(index, values).distinct()))


class OneConnection:
    """``connect()`` and ``begin()`` on a connection already in a transaction: lets a
    migration use the key store inside its own transaction."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def connect(self) -> Any:
        return contextlib.nullcontext(self.connection)

    def begin(self) -> Any:
        return contextlib.nullcontext(self.connection)


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
    db.session.commit()
    return done
