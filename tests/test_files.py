"""Files stored sealed in the database: whole, refused when too large, never in clear,
damage detected, rotated with the keys, gone with a destroyed case key."""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portal import files, keystore
from portal.crypto.envelope import DecryptionError
from portal.crypto.keys import KeyOwner
from portal.extensions import db
from portal.models import Authority, DataKey, StoredFile, StoredFileChunk, utcnow
from tests.conftest import Database
from tests.factories import make_authority
from tests.rawdata import appears_in, canary, raw_database_bytes

CHUNK = 64 * 1024


def upload(data: bytes, part: int = 8000) -> list[bytes]:
    """As a request body arrives: in parts that do not line up with the chunks."""
    return [data[i : i + part] for i in range(0, len(data), part)]


def store(app: Flask, owner: KeyOwner, data: bytes, part: int = 8000) -> uuid.UUID:
    with app.app_context():
        stored = files.store(owner, upload(data, part))
        db.session.commit()
        return stored.id


def read(app: Flask, file_id: uuid.UUID) -> bytes:
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert stored
        return b"".join(files.read(stored))


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(StoredFile)) or 0,
            db.session.scalar(select(func.count()).select_from(StoredFileChunk)) or 0,
        )


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 17])
def test_a_file_comes_back_as_it_went_in(app: Flask, size: int) -> None:
    owner = KeyOwner.authority(make_authority(app))
    data = os.urandom(size)
    file_id = store(app, owner, data)
    assert read(app, file_id) == data
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert stored
        assert stored.size == size
        assert (stored.owner_kind, stored.owner_id) == ("authority", owner.id)


def test_twenty_megabytes_is_accepted_and_one_byte_more_is_not(app: Flask) -> None:
    owner = KeyOwner.authority(make_authority(app))
    data = os.urandom(files.MAX_FILE_BYTES)
    assert read(app, store(app, owner, data, part=1024 * 1024)) == data
    with app.app_context(), pytest.raises(files.FileTooLargeError, match="smaller than 20 MB"):
        files.store(owner, upload(data + b"x", part=1024 * 1024))


def test_a_file_too_large_leaves_nothing_and_the_transaction_goes_on(app: Flask) -> None:
    authority_id = make_authority(app)
    owner = KeyOwner.authority(authority_id)
    with app.app_context():
        authority = db.session.get(Authority, authority_id)
        assert authority
        authority.meeting_name = "POT"  # the user's other changes in the same request
        with pytest.raises(files.FileTooLargeError):
            files.store(owner, upload(os.urandom(5 * CHUNK)), max_bytes=3 * CHUNK)
        db.session.commit()
    assert counts(app) == (0, 0)
    with app.app_context():
        authority = db.session.get(Authority, authority_id)
        assert authority
        assert authority.meeting_name == "POT"


def test_a_failure_while_reading_the_upload_leaves_nothing(app: Flask) -> None:
    owner = KeyOwner.authority(make_authority(app))

    def broken_upload() -> Iterator[bytes]:
        yield os.urandom(3 * CHUNK)
        raise OSError("client went away")

    with app.app_context():
        with pytest.raises(OSError, match="client went away"):
            files.store(owner, broken_upload())
        db.session.commit()  # what the request had done otherwise is kept; none of the file
    assert counts(app) == (0, 0)


def test_no_file_content_reaches_the_database_in_clear(app: Flask, database: Database) -> None:
    owner = KeyOwner.authority(make_authority(app))
    marker = canary()
    data = (b"%PDF-1.7 statement of " + marker.encode() + b"\n") * 5000  # several chunks
    file_id = store(app, owner, data)
    with app.app_context():
        db.engine.dispose()  # close connections so every write is in the files
    assert not appears_in(raw_database_bytes(database), marker)
    assert read(app, file_id) == data


def _chunks(app: Flask, file_id: uuid.UUID) -> list[bytes]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(StoredFileChunk.data)
                .where(StoredFileChunk.file_id == file_id)
                .order_by(StoredFileChunk.seq)
            )
        )


def _set_chunk(app: Flask, file_id: uuid.UUID, seq: int, data: bytes) -> None:
    with app.app_context():
        db.session.execute(
            update(StoredFileChunk)
            .where(StoredFileChunk.file_id == file_id, StoredFileChunk.seq == seq)
            .values(data=data)
        )
        db.session.commit()


@pytest.mark.parametrize(
    "tamper", ["chunk from another file", "reordered", "cut short", "flipped byte", "header"]
)
def test_damage_to_a_file_is_detected_naming_its_row(app: Flask, tamper: str) -> None:
    owner = KeyOwner.authority(make_authority(app))
    first = store(app, owner, os.urandom(3 * CHUNK + 5))
    second = store(app, owner, os.urandom(3 * CHUNK + 5))
    parts = _chunks(app, first)
    if tamper == "chunk from another file":
        _set_chunk(app, first, 2, _chunks(app, second)[2])
    elif tamper == "reordered":
        _set_chunk(app, first, 1, parts[2])
        _set_chunk(app, first, 2, parts[1])
    elif tamper == "cut short":
        with app.app_context():
            db.session.execute(
                StoredFileChunk.__table__.delete().where(
                    StoredFileChunk.file_id == first, StoredFileChunk.seq == len(parts) - 1
                )
            )
            db.session.commit()
    elif tamper == "flipped byte":
        _set_chunk(app, first, 1, parts[1][:100] + bytes([parts[1][100] ^ 1]) + parts[1][101:])
    else:
        _set_chunk(app, first, 0, parts[0][:6] + bytes([parts[0][6] ^ 1]) + parts[0][7:])
    with pytest.raises(DecryptionError, match=f"stored_files.content of row {first}"):
        read(app, first)
    assert len(read(app, second)) == 3 * CHUNK + 5  # the other file is unharmed


def test_files_move_to_the_new_key_and_the_old_key_retires_only_then(app: Flask) -> None:
    owner = KeyOwner.authority(make_authority(app))
    data = os.urandom(2 * CHUNK + 3)
    file_id = store(app, owner, data)
    runner = app.test_cli_runner()
    with app.app_context():
        manager = keystore.keys()
        old = manager.primary_key_id(owner)
        new = manager.rotate(owner).id
        db.session.commit()
        with db.engine.connect() as connection:
            assert files.status(connection, manager).by_key == {old: 1}
    refused = runner.invoke(args=["keys", "retire", "--data-key", str(old)])
    assert refused.exit_code != 0
    assert "still protects 1 value(s)" in refused.output
    result = runner.invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "stored_files: 1 file(s) re-encrypted, 1 file(s) read" in result.output
    status = runner.invoke(args=["keys", "status"])
    assert status.exit_code == 0, status.output
    assert f"stored_files.content: {new} = 1" in status.output
    assert read(app, file_id) == data
    again = runner.invoke(args=["keys", "reencrypt"])
    assert "stored_files: 0 file(s) re-encrypted, 1 file(s) read" in again.output
    # Other processes may seal with the old key until their caches expire: not yet.
    too_soon = runner.invoke(args=["keys", "retire", "--data-key", str(old)])
    assert "was primary until less than 60 seconds ago" in too_soon.output
    with app.app_context():  # two minutes later
        db.session.execute(
            update(DataKey)
            .where(DataKey.id == new)
            .values(created_at=utcnow() - datetime.timedelta(minutes=2))
        )
        db.session.commit()
    retired = runner.invoke(args=["keys", "retire", "--data-key", str(old)])
    assert retired.exit_code == 0, retired.output
    assert read(app, file_id) == data


def test_keys_status_fails_for_a_damaged_file(app: Flask) -> None:
    owner = KeyOwner.authority(make_authority(app))
    file_id = store(app, owner, os.urandom(CHUNK + 1))
    parts = _chunks(app, file_id)
    _set_chunk(app, file_id, 1, parts[1][:-1] + bytes([parts[1][-1] ^ 1]))
    result = app.test_cli_runner().invoke(args=["keys", "status"])
    assert result.exit_code == 1
    assert f"stored_files.content of row {file_id}" in result.output


def test_a_destroyed_case_key_leaves_the_case_files_unreadable(app: Flask) -> None:
    owner = KeyOwner.case(uuid.uuid4(), make_authority(app))
    file_id = store(app, owner, b"minutes of the meeting")
    with app.app_context():
        manager = keystore.keys()
        manager.destroy(manager.primary_key_id(owner))
        db.session.commit()
    with pytest.raises(DecryptionError, match="has been destroyed"):
        read(app, file_id)


def test_a_deleted_file_leaves_no_chunks(app: Flask) -> None:
    owner = KeyOwner.authority(make_authority(app))
    file_id = store(app, owner, os.urandom(3 * CHUNK))
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert stored
        files.delete_file(stored)
        db.session.commit()
    assert counts(app) == (0, 0)


def test_a_download_gets_a_whole_checked_file_or_nothing(app: Flask) -> None:
    owner = KeyOwner.authority(make_authority(app))
    data = os.urandom(3 * CHUNK + 5)
    file_id = store(app, owner, data)
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert stored
        with files.open_verified(stored) as whole:
            assert whole.read() == data
    parts = _chunks(app, file_id)
    _set_chunk(app, file_id, 4, parts[4][:-1] + bytes([parts[4][-1] ^ 1]))  # the last chunk
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert stored
        with pytest.raises(DecryptionError, match="chunk 3"):
            files.open_verified(stored)  # nothing handed out before the damage is found
