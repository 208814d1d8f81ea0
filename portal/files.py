"""Files stored sealed: put one in, read it back, forget it; and their part in rotation.

A file is sealed in 64 KiB chunks as it is read (portal.crypto.stream), under its
owner's data key, and bound to its row, so a chunk moved from another file, reordered
or cut short fails to open. Neither the whole plaintext nor the whole sealed file is
held in memory while storing or reading.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import IO, Any, cast

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from portal import keystore
from portal.crypto.envelope import DecryptionError
from portal.crypto.keys import KeyManager, KeyOwner
from portal.crypto.rotation import ColumnStatus, Progress
from portal.crypto.stream import key_id_of_stream
from portal.extensions import db
from portal.models import StoredFile, StoredFileChunk

MAX_FILE_BYTES = 20 * 1024 * 1024
# The names the sealed content is bound to (its "table and column").
TABLE, COLUMN = "stored_files", "content"
LABEL = f"{TABLE}.{COLUMN}"
CHUNKS_PER_INSERT = 16  # 1 MiB a statement


class FileTooLargeError(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The file must be smaller than {limit // (1024 * 1024)} MB")
        self.limit = limit


class StorageFullError(Exception):
    """The database has no room for the file (its disk is full)."""


def out_of_space(error: SQLAlchemyError) -> bool:
    """A write refused for want of space: PostgreSQL's disk_full (53100), SQLite's
    SQLITE_FULL ("database or disk is full")."""
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) == "53100" or "disk is full" in str(original)


def store(
    owner: KeyOwner, content: Iterable[bytes], *, max_bytes: int = MAX_FILE_BYTES
) -> StoredFile:
    """Seal and store a file in the current transaction. A file over ``max_bytes``, or
    content that fails part way, leaves nothing of it behind and the rest of the
    transaction as it was (a database error leaves the transaction to be rolled back;
    StorageFullError when that error is a full disk)."""
    measured = _Measured(content, max_bytes)
    file = StoredFile(
        id=uuid.uuid4(),
        owner_kind=owner.kind,
        owner_id=owner.id,
        owner_authority_id=owner.authority_id,
        size=0,
    )
    db.session.add(file)
    db.session.flush()  # the chunks refer to it
    try:
        _key_id, parts = keystore.keys().seal_stream(owner, TABLE, COLUMN, file.id, measured)
        _insert_parts(db.session.connection(), file.id, parts)
    except SQLAlchemyError as error:
        if out_of_space(error):
            raise StorageFullError from error
        raise
    except Exception:
        delete_file(file)
        db.session.flush()
        raise
    file.size = measured.size
    return file


def read(file: StoredFile) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, each checked before it is given out: a damaged
    file raises DecryptionError (naming the row) at its first bad chunk."""
    return keystore.keys().open_stream(TABLE, COLUMN, file.id, _parts(db.session, file.id))


def open_verified(file: StoredFile) -> IO[bytes]:
    """The whole plaintext in a temporary file (in memory up to 1 MiB), every chunk
    checked: for a download, which must not send half a file and then fail. Close it
    when done; it is deleted then."""
    spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (returned)
    try:
        for chunk in read(file):
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return cast(IO[bytes], spooled)


def delete_file(file: StoredFile) -> None:
    db.session.execute(delete(StoredFileChunk).where(StoredFileChunk.file_id == file.id))
    db.session.delete(file)


class _Measured:
    """The content, counted as it passes; too much raises before more is read."""

    def __init__(self, content: Iterable[bytes], limit: int) -> None:
        self.content = content
        self.limit = limit
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for part in self.content:
            self.size += len(part)
            if self.size > self.limit:
                raise FileTooLargeError(self.limit)
            yield part


def _insert_parts(connection: Any, file_id: uuid.UUID, parts: Iterable[bytes]) -> None:
    numbered = enumerate(parts)
    while group := list(islice(numbered, CHUNKS_PER_INSERT)):
        connection.execute(
            insert(StoredFileChunk),
            [{"file_id": file_id, "seq": seq, "data": data} for seq, data in group],
        )


def _parts(connection: Any, file_id: uuid.UUID) -> Iterator[bytes]:
    rows = connection.execute(
        select(StoredFileChunk.data)
        .where(StoredFileChunk.file_id == file_id)
        .order_by(StoredFileChunk.seq)
        .execution_options(yield_per=CHUNKS_PER_INSERT)
    )
    return (data for (data,) in rows)


# Rotation: the key id is in each file's header (part 0), read without decrypting.


def _headers(connection: Any) -> Any:
    return connection.execute(
        select(
            StoredFile.id,
            StoredFile.owner_kind,
            StoredFile.owner_id,
            StoredFile.owner_authority_id,
            StoredFileChunk.data,
        )
        .join(StoredFileChunk, StoredFileChunk.file_id == StoredFile.id)
        .where(StoredFileChunk.seq == 0)
        .order_by(StoredFile.id)
        .execution_options(yield_per=1000)
    )


def status(connection: Any, manager: KeyManager, *, open_values: bool = True) -> ColumnStatus:
    """How many files each key id seals, and (opening each) how many fail to decrypt."""
    result = ColumnStatus(LABEL)
    for file_id, *_owner, header in _headers(connection).all():
        try:
            result.by_key[key_id_of_stream(header)] += 1
            if open_values:
                for _chunk in manager.open_stream(
                    TABLE, COLUMN, file_id, _parts(connection, file_id)
                ):
                    pass
        except DecryptionError as error:
            result.failures += 1
            result.first_failure = result.first_failure or f"{LABEL} of row {file_id}: {error}"
    return result


def reencrypt(
    engine: Any,
    manager: KeyManager,
    *,
    limit: int | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Progress:
    """Seal again, under its owner's primary key, every file that is not. One file per
    transaction, its row locked: files never change once stored, so a file already
    moved by another run is the only thing to look out for."""
    progress = Progress(TABLE)
    with engine.connect() as connection:
        files = _headers(connection).all()
    for file_id, kind, owner_id, authority_id, header in files:
        if stop() or (limit is not None and progress.reencrypted >= limit):
            break
        progress.scanned += 1
        owner = KeyOwner(kind, owner_id, authority_id)
        primary = manager.existing_primary_key_id(owner)
        if primary is None:
            progress.failures.append(f"{LABEL} of row {file_id}: {owner} has no key")
            continue
        if _key_id_or_none(header) == primary:
            continue
        try:
            if _reseal(engine, manager, file_id, owner, header):
                progress.reencrypted += 1
            else:
                progress.retried += 1
        except IntegrityError:  # deleted as it was re-sealed (SQLite cannot lock the row)
            progress.retried += 1
        except DecryptionError as error:
            progress.failures.append(str(error))
    return progress


def _key_id_or_none(header: bytes) -> int | None:
    try:
        return key_id_of_stream(header)
    except DecryptionError:
        return None


def _reseal(
    engine: Any, manager: KeyManager, file_id: uuid.UUID, owner: KeyOwner, header: bytes
) -> bool:
    """False if the file went or was moved meanwhile."""
    with engine.begin() as connection:
        locked = connection.execute(
            select(StoredFile.id).where(StoredFile.id == file_id).with_for_update()
        ).first()
        current = connection.execute(
            select(StoredFileChunk.data).where(
                StoredFileChunk.file_id == file_id, StoredFileChunk.seq == 0
            )
        ).scalar()
        if locked is None or current != header:
            return False
        plaintext = list(manager.open_stream(TABLE, COLUMN, file_id, _parts(connection, file_id)))
        _key_id, parts = manager.seal_stream(owner, TABLE, COLUMN, file_id, plaintext)
        sealed = list(parts)
        connection.execute(delete(StoredFileChunk).where(StoredFileChunk.file_id == file_id))
        _insert_parts(connection, file_id, sealed)
    return True
