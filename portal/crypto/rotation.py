"""Key rotation work over sealed columns: what each key holds, and re-encryption.

Re-encryption runs while the portal serves. It reads a batch of rows, re-seals those not
under their owner's primary key, and writes each back with a compare-and-swap
(``WHERE value = the value read``): a row changed meanwhile by the portal is read again
and retried, never overwritten. It keeps no progress of its own: run again, it skips
what is already done (the key id is read from the envelope header, without
decrypting), so an interrupted run is resumed by starting it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, select, update

from portal.crypto.envelope import DecryptionError, key_id_of
from portal.crypto.fields import OwnerSpec
from portal.crypto.keys import KeyManager

RETRIES = 3


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


@dataclass
class Progress:
    label: str
    scanned: int = 0
    reencrypted: int = 0
    retried: int = 0
    failures: list[str] = field(default_factory=list)


def reencrypt(
    engine: Any,
    sealed: SealedColumn,
    manager: KeyManager,
    *,
    batch: int = 1000,
    limit: int | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Progress:
    """Move every value of the column onto its owner's primary key. ``limit`` bounds how
    many values are re-sealed in this run (the rest wait for the next run)."""
    progress = Progress(sealed.label)
    last_id: Any = None
    while not stop():
        query = (
            select(sealed.id_column, sealed.column, *sealed.owner_columns)
            .where(sealed.column.is_not(None))
            .order_by(sealed.id_column)
            .limit(batch)
        )
        if last_id is not None:
            query = query.where(sealed.id_column > last_id)
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            break
        changes = []
        for row in rows:
            progress.scanned += 1
            change = _resealed(sealed, manager, row, progress)
            if change is not None:
                changes.append(change)
            if limit is not None and progress.reencrypted + len(changes) >= limit:
                break
        _write(engine, sealed, manager, changes, progress)
        if limit is not None and progress.reencrypted >= limit:
            break
        last_id = rows[-1][0]
    return progress


def _resealed(
    sealed: SealedColumn, manager: KeyManager, row: Any, progress: Progress
) -> dict[str, Any] | None:
    row_id, blob = row[0], row[1]
    owner = sealed.owner.owner(row)
    where = f"{sealed.label} of row {row_id}"
    try:
        if key_id_of(blob, where) == manager.primary_key_id(owner):
            return None
        plaintext = manager.unseal(sealed.logical_table, sealed.logical_column, row_id, blob)
    except DecryptionError as error:
        progress.failures.append(str(error))
        return None
    new = manager.seal(owner, sealed.logical_table, sealed.logical_column, row_id, plaintext)
    return {"row_id": row_id, "old": blob, "new": new, "row": row}


def _write(
    engine: Any,
    sealed: SealedColumn,
    manager: KeyManager,
    changes: list[dict[str, Any]],
    progress: Progress,
) -> None:
    """Compare-and-swap each change; re-read and retry the rows that moved meanwhile."""
    for _attempt in range(RETRIES):
        if not changes:
            return
        statement = (
            update(sealed.table)
            .where(sealed.id_column == bindparam("row_id"), sealed.column == bindparam("old"))
            .values({sealed.column.key: bindparam("new")})
        )
        with engine.begin() as connection:
            params = [{k: c[k] for k in ("row_id", "old", "new")} for c in changes]
            result = connection.execute(statement, params)
            if result.rowcount == len(changes):
                progress.reencrypted += len(changes)
                return
            rows = connection.execute(
                select(sealed.id_column, sealed.column, *sealed.owner_columns).where(
                    sealed.id_column.in_([c["row_id"] for c in changes])
                )
            ).all()
        current = {row[0]: row for row in rows}
        retry = []
        for change in changes:
            row = current.get(change["row_id"])
            if row is None or row[1] is None:
                continue  # deleted or emptied meanwhile: nothing to move
            if row[1] == change["new"]:
                progress.reencrypted += 1
                continue
            progress.retried += 1
            again = _resealed(sealed, manager, row, progress)
            if again is not None:
                retry.append(again)
        changes = retry
    progress.failures.extend(
        f"{sealed.label} of row {c['row_id']}: kept changing; run again" for c in changes
    )
