"""Key rotation work over sealed columns: what each key holds, and re-encryption.

Re-encryption runs while the portal serves. It reads a batch of rows (every sealed
column of a table at once), re-seals the values not under their owner's primary key,
and writes each row back with a compare-and-swap (``WHERE value = the value read``): a
row changed meanwhile by the portal is read again and retried, never overwritten. It
keeps no progress of its own: run again, it skips what is already done (the key id is
read from the envelope header, without decrypting), so an interrupted run is resumed by
starting it again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import ColumnElement, Table, and_, bindparam, select, update

from portal.crypto import envelope
from portal.crypto.envelope import DecryptionError, key_id_of
from portal.crypto.fields import OwnerSpec
from portal.crypto.keys import KeyManager, KeyOwner

RETRIES = 3
HEADER_END = envelope.HEADER.size  # version and key id


@dataclass(frozen=True)
class SealedColumn:
    """One column of sealed values, as Core sees it."""

    table: Table
    logical_table: str
    logical_column: str
    column: ColumnElement[Any]
    id_column: ColumnElement[Any]
    owner: OwnerSpec
    owner_columns: tuple[ColumnElement[Any], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.logical_table}.{self.logical_column}"


@dataclass
class ColumnStatus:
    label: str
    by_key: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    first_failure: str | None = None


def column_status(
    connection: Any, sealed: SealedColumn, manager: KeyManager, *, open_values: bool = True
) -> ColumnStatus:
    """How many values each key id holds, and (opening each) how many fail to decrypt."""
    status = ColumnStatus(sealed.label)
    rows = connection.execute(
        select(sealed.id_column, sealed.column)
        .where(sealed.column.is_not(None))
        .execution_options(yield_per=2000)
    )
    for row_id, blob in rows:
        where = f"{sealed.label} of row {row_id}"
        try:
            status.by_key[key_id_of(blob, where)] += 1
            if open_values:
                manager.unseal(sealed.logical_table, sealed.logical_column, row_id, blob)
        except DecryptionError as error:
            status.failures += 1
            status.first_failure = status.first_failure or str(error)
    return status


def _key(sealed: SealedColumn) -> str:
    return str(sealed.column.key)


def by_table(columns: Sequence[SealedColumn]) -> list[list[SealedColumn]]:
    """Columns grouped by table: each table is read and written once per row."""
    tables: dict[str, list[SealedColumn]] = defaultdict(list)
    for column in columns:
        tables[column.table.name].append(column)
    return list(tables.values())


@dataclass
class Progress:
    label: str
    scanned: int = 0
    reencrypted: int = 0  # values
    retried: int = 0  # rows that changed between read and write
    failures: list[str] = field(default_factory=list)


@dataclass
class _OwnerKeys:
    """An owner's primary key and its column ciphers, looked up once per batch."""

    owner: KeyOwner
    primary: int | None
    ciphers: dict[str, AESGCM] = field(default_factory=dict)


@dataclass
class _Change:
    row_id: Any
    old: dict[str, bytes]  # column key -> value read
    new: dict[str, bytes]  # column key -> value re-sealed


def reencrypt(
    engine: Any,
    columns: Sequence[SealedColumn],
    manager: KeyManager,
    *,
    batch: int = 1000,
    limit: int | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Progress:
    """Move every value of these columns (all of one table) onto its owner's primary
    key. ``limit`` bounds how many values are re-sealed in this run."""
    first = columns[0]
    progress = Progress(first.logical_table)
    last_id: Any = None
    while not stop():
        query = (
            select(first.id_column, *(c.column for c in columns), *first.owner_columns)
            .order_by(first.id_column)
            .limit(batch)
        )
        if last_id is not None:
            query = query.where(first.id_column > last_id)
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            break
        changes = []
        owners: dict[tuple[Any, ...], _OwnerKeys] = {}
        for row in rows:
            progress.scanned += 1
            last_id = row[0]  # the next batch starts after the last row looked at
            change = _resealed(columns, manager, row, progress, owners)
            if change is not None:
                changes.append(change)
            if limit is not None and progress.reencrypted + _values(changes) >= limit:
                break
        _write(engine, columns, manager, changes, progress)
        if limit is not None and progress.reencrypted >= limit:
            break
    return progress


def _values(changes: list[_Change]) -> int:
    return sum(len(change.new) for change in changes)


def _resealed(
    columns: Sequence[SealedColumn],
    manager: KeyManager,
    row: Any,
    progress: Progress,
    owners: dict[tuple[Any, ...], _OwnerKeys],
) -> _Change | None:
    row_id = row[0]
    first = columns[0]
    # Rows of one owner are many: its key is looked up once per batch, not per row.
    raw_owner = tuple(row[len(columns) + 1 :])
    if raw_owner not in owners:
        owner = first.owner.owner(row)
        owners[raw_owner] = _OwnerKeys(owner, manager.existing_primary_key_id(owner))
    keys = owners[raw_owner]
    owner, primary = keys.owner, keys.primary
    if primary is None:
        progress.failures.append(f"{first.logical_table} row {row_id}: {owner} has no key")
        return None
    row_key = str(row_id)
    row_context = row_key.encode()
    change = _Change(row_id, {}, {})
    for position, sealed in enumerate(columns, start=1):
        blob = row[position]
        if blob is None:
            continue
        # Already on the primary key? Read from the header, without decrypting.
        if (
            len(blob) > HEADER_END
            and blob[0] == envelope.VERSION
            and int.from_bytes(blob[1:HEADER_END], "big") == primary
        ):
            continue
        try:
            plaintext = manager.unseal(sealed.logical_table, sealed.logical_column, row_key, blob)
        except DecryptionError as error:
            progress.failures.append(str(error))
            continue
        key = _key(sealed)
        cipher = keys.ciphers.get(key)
        if cipher is None:
            _, cipher = manager.sealing_key(owner, sealed.logical_table, sealed.logical_column)
            keys.ciphers[key] = cipher
        change.old[key] = blob
        change.new[key] = envelope.seal(
            cipher,
            primary,
            plaintext,
            envelope.column_prefix(sealed.logical_table, sealed.logical_column) + row_context,
        )
    return change if change.new else None


def _write(
    engine: Any,
    columns: Sequence[SealedColumn],
    manager: KeyManager,
    changes: list[_Change],
    progress: Progress,
) -> None:
    """Compare-and-swap each row; re-read and retry the rows that moved meanwhile."""
    first = columns[0]
    by_key = {_key(c): c for c in columns}
    for _attempt in range(RETRIES):
        if not changes:
            return
        written = 0
        with engine.begin() as connection:
            # One statement per shape of change (which columns move): usually one.
            shapes: dict[tuple[str, ...], list[_Change]] = defaultdict(list)
            for change in changes:
                shapes[tuple(sorted(change.new))].append(change)
            for keys, group in shapes.items():
                statement = (
                    update(first.table)
                    .where(
                        and_(
                            first.id_column == bindparam("row_id"),
                            *(by_key[k].column == bindparam(f"old_{k}") for k in keys),
                        )
                    )
                    .values({k: bindparam(f"new_{k}") for k in keys})
                )
                params = [
                    {"row_id": change.row_id}
                    | {f"old_{k}": change.old[k] for k in keys}
                    | {f"new_{k}": change.new[k] for k in keys}
                    for change in group
                ]
                written += connection.execute(statement, params).rowcount
            if written == len(changes):
                progress.reencrypted += _values(changes)
                return
            rows = connection.execute(
                select(first.id_column, *(c.column for c in columns), *first.owner_columns).where(
                    first.id_column.in_([change.row_id for change in changes])
                )
            ).all()
        current = {row[0]: row for row in rows}
        retry = []
        for change in changes:
            row = current.get(change.row_id)
            if row is None:
                continue  # deleted meanwhile: nothing to move
            values = dict(zip((_key(c) for c in columns), row[1:], strict=False))
            if all(values.get(k) == v for k, v in change.new.items()):
                progress.reencrypted += len(change.new)  # this one was written
                continue
            progress.retried += 1
            again = _resealed(columns, manager, row, progress, {})
            if again is not None:
                retry.append(again)
        changes = retry
    progress.failures.extend(
        f"{first.logical_table} row {change.row_id}: kept changing; run again" for change in changes
    )
