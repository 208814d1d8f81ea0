"""Field-level encryption through the real stack: nothing personal reaches the database
(or its dumps, or the log) in clear; tampering fails loudly; keys rotate, and a wrong
keyring stops the app."""

from __future__ import annotations

import base64
import datetime
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal import create_app, keystore
from portal.auth.service import user_by_email
from portal.config import ConfigError
from portal.crypto.blind_index import BlindIndex, normalise_date, normalise_name
from portal.crypto.envelope import DecryptionError
from portal.crypto.fields import (
    DATE,
    TEXT,
    HasEncryptedFields,
    OwnerSpec,
    ValueTooLongError,
    encrypted,
)
from portal.crypto.keyring import new_keyring, parse
from portal.crypto.keys import KeyOwner
from portal.crypto.rotation import by_table, column_status, reencrypt
from portal.extensions import db
from portal.models import DataKey, Invitation, OutboxMessage, Role, User
from tests.client import PortalClient
from tests.conftest import TEST_KEYRING, Database, settings_for_tests
from tests.factories import make_account, make_authority, sign_in
from tests.rawdata import appears_in, canary, raw_database_bytes


def test_no_personal_value_reaches_the_database_or_the_log_in_clear(
    app: Flask, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canaries = {
        name: canary()
        for name in (
            "email",
            "full_name",
            "invitee_email",
            "invitee_name",
            "recipient",
            "body",
            "flash_name",
        )
    }
    canaries["totp_secret"] = pyotp.random_base32(length=32)  # must be a working secret
    authority_id = make_authority(app)
    admin = make_account(app, Role.AUTHORITY_ADMIN, authority_id=authority_id)
    with app.app_context():
        user = db.session.get(User, admin.id)
        assert user
        user.email = f"{canaries['email']}@test.example"
        user.full_name = canaries["full_name"]
        user.totp_secret = canaries["totp_secret"]
        db.session.add(
            OutboxMessage(
                template="password_changed",
                subject="Subject",
                recipient=f"{canaries['recipient']}@test.example",
                body=canaries["body"],
            )
        )
        db.session.commit()
        totp_secret = user.totp_secret
    # Through the pages too: an invitation, whose confirmation flashes the invitee's name
    # into the (server-side, sealed) session.
    from dataclasses import replace

    client = app.test_client()
    assert isinstance(client, PortalClient)
    sign_in(
        client,
        app,
        replace(admin, email=f"{canaries['email']}@test.example", totp_secret=totp_secret),
    )
    client.submit(
        f"/authorities/{authority_id}/staff/invite",
        {
            "full_name": canaries["flash_name"],
            "email": f"{canaries['invitee_email']}@test.example",
            "roles": ["lado"],
        },
    )
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        invitation.full_name = canaries["invitee_name"]
        db.session.commit()
        db.engine.dispose()  # close connections so every write is in the files
    dump = raw_database_bytes(database)
    assert dump
    for name, value in canaries.items():
        assert not appears_in(dump, value), f"{name} is in the database in clear"
        assert value not in caplog.text, f"{name} is in the log"
    # ...and the portal still reads every one of them.
    with app.app_context():
        stored = db.session.get(User, admin.id)
        assert stored
        assert stored.full_name == canaries["full_name"]
        assert user_by_email(f"{canaries['email']}@TEST.example") is not None


def _two_users(app: Flask) -> tuple[uuid.UUID, uuid.UUID]:
    authority_id = make_authority(app)
    first = make_account(app, Role.LADO, authority_id=authority_id, full_name="First Person")
    second = make_account(app, Role.LADO, authority_id=authority_id, full_name="Second Person")
    return first.id, second.id


def _raw(app: Flask, user_id: uuid.UUID, column: str) -> bytes:
    with app.app_context():
        value = db.session.execute(
            text(f"SELECT {column} FROM users WHERE id = :id"),  # noqa: S608 (fixed names)
            {"id": user_id.hex if db.engine.dialect.name == "sqlite" else user_id},
        ).scalar_one()
        return bytes(value)


def _write_raw(app: Flask, user_id: uuid.UUID, column: str, value: bytes) -> None:
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == user_id).values({f"_sealed_{column}": value})
        )
        db.session.commit()


def _read(app: Flask, user_id: uuid.UUID, attribute: str) -> object:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user
        return getattr(user, attribute)


@pytest.mark.parametrize(
    "tamper",
    ["swap rows", "swap columns", "flip a byte", "truncate", "version byte", "unknown key"],
)
def test_tampered_values_fail_naming_table_column_and_row(app: Flask, tamper: str) -> None:
    first, second = _two_users(app)
    name = _raw(app, first, "full_name")
    if tamper == "swap rows":
        _write_raw(app, first, "full_name", _raw(app, second, "full_name"))
    elif tamper == "swap columns":
        _write_raw(app, first, "full_name", _raw(app, first, "email"))
    elif tamper == "flip a byte":
        _write_raw(app, first, "full_name", name[:-3] + bytes([name[-3] ^ 1]) + name[-2:])
    elif tamper == "truncate":
        _write_raw(app, first, "full_name", name[:20])
    elif tamper == "version byte":
        _write_raw(app, first, "full_name", b"\x09" + name[1:])
    else:
        _write_raw(app, first, "full_name", name[:1] + (123).to_bytes(4, "big") + name[5:])
    with pytest.raises(DecryptionError) as error:
        _read(app, first, "full_name")
    message = str(error.value)
    assert f"users.full_name of row {first}" in message
    assert "Person" not in message
    assert _read(app, second, "full_name") == "Second Person"  # the other row is unharmed


def test_a_value_too_long_is_refused_and_nothing_is_written(app: Flask) -> None:
    first, _second = _two_users(app)
    with app.app_context():
        user = db.session.get(User, first)
        assert user
        with pytest.raises(ValueTooLongError, match=r"users\.full_name takes at most 200"):
            user.full_name = "x" * 201
        db.session.commit()
    assert _read(app, first, "full_name") == "First Person"


def test_sign_in_finds_accounts_through_the_blind_index(app: Flask) -> None:
    make_account(app, Role.LADO, authority_id=make_authority(app), email="jo.bloggs@test.example")
    with app.app_context():
        assert user_by_email("  JO.Bloggs@test.example ") is not None
        assert user_by_email("jo.blogs@test.example") is None


class SideBase(HasEncryptedFields, DeclarativeBase):
    """Tables for these tests only, outside the portal's schema."""


class Person(SideBase):
    """A person found by name and date of birth, as subjects and children will be."""

    __tablename__ = "test_people"
    __encryption_owner__ = OwnerSpec.authority()
    __blind_indexes__ = (
        BlindIndex("test.person", ("dob", "name"), (normalise_date, normalise_name), bits=16),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    authority_id: Mapped[uuid.UUID]
    name = encrypted(TEXT, nullable=False)
    dob = encrypted(DATE, nullable=False)


@pytest.fixture
def people(app: Flask) -> Iterator[type[Person]]:
    with app.app_context():
        Person.__table__.create(db.engine)
    yield Person
    with app.app_context():
        db.session.remove()
        Person.__table__.drop(db.engine)


def test_a_person_is_found_again_however_the_name_is_written(
    app: Flask, people: type[Person]
) -> None:
    """Through the index entries the session writes, confirmed by decrypting; a namesake
    born on another day, and everyone sharing the truncated digest's bucket, are not."""
    index = Person.__blind_indexes__[0]
    authority_id = make_authority(app)
    dob = datetime.date(2009, 4, 17)
    with app.app_context():
        zoe = Person(authority_id=authority_id, name="Zoë  O'Brien-Smith", dob=dob)
        namesake = Person(
            authority_id=authority_id, name="Zoe O'Brien-Smith", dob=datetime.date(2010, 1, 1)
        )
        db.session.add_all([zoe, namesake])
        db.session.commit()
        typed = {"name": "zoe obrien smith", "dob": dob}
        assert keystore.find_ids(Person, index, **typed) == [zoe.id]
        assert [p.id for p in keystore.find(Person, index, **typed)] == [zoe.id]
        assert keystore.find_ids(Person, index, name="Zoe OBrien", dob=dob) == []
        assert zoe.id in keystore.candidates(index, **typed)
        assert namesake.id not in keystore.candidates(index, **typed)
        with pytest.raises(TypeError, match="takes exactly dob, name"):
            keystore.find_ids(Person, index, name="Zoe")


def test_a_person_in_the_same_bucket_is_a_candidate_but_not_a_match(
    app: Flask, people: type[Person]
) -> None:
    index = Person.__blind_indexes__[0]
    authority_id = make_authority(app)
    wanted = [datetime.date(2001, 2, 3), "Sam Taylor"]
    with app.app_context():
        bucket = index.digest(keystore.keyring().primary("index").material, wanted)
        born = datetime.date(1990, 1, 1)
        other = next(  # another person whose truncated digest falls in the same bucket
            (born + datetime.timedelta(days=n), f"Alex Jones {n}")
            for n in range(10**6)
            if index.digest(
                keystore.keyring().primary("index").material,
                [born + datetime.timedelta(days=n), f"Alex Jones {n}"],
            )
            == bucket
        )
        sam = Person(authority_id=authority_id, dob=wanted[0], name=wanted[1])
        alex = Person(authority_id=authority_id, dob=other[0], name=other[1])
        db.session.add_all([sam, alex])
        db.session.commit()
        by_field = dict(zip(index.fields, wanted, strict=True))
        assert set(keystore.candidates(index, **by_field)) == {sam.id, alex.id}
        assert keystore.find_ids(Person, index, **by_field) == [sam.id]


def test_a_deleted_person_leaves_no_index_entries(app: Flask, people: type[Person]) -> None:
    index = Person.__blind_indexes__[0]
    with app.app_context():
        person = Person(
            authority_id=make_authority(app), name="Ann Lee", dob=datetime.date(2000, 1, 1)
        )
        db.session.add(person)
        db.session.commit()
        db.session.delete(person)
        db.session.commit()
        assert keystore.candidates(index, dob=datetime.date(2000, 1, 1), name="Ann Lee") == []
        remaining = db.session.scalar(
            select(func.count())
            .select_from(keystore.INDEX)
            .where(keystore.INDEX.c.kind == "test.person")
        )
        assert remaining == 0


def test_a_key_made_in_a_transaction_that_rolls_back_is_never_used(
    app: Flask, make_app: Callable[[], Flask]
) -> None:
    """The key row goes with the rollback; the manager must not go on sealing under it."""
    owner = KeyOwner.authority(make_authority(app))
    with app.app_context():
        manager = keystore.keys()
        manager.seal(owner, "notes", "text", 1, b"never kept")  # makes the first key
        db.session.rollback()
        sealed = manager.seal(owner, "notes", "text", 2, b"kept")
        db.session.commit()
    with make_app().app_context():  # another process, with nothing cached
        assert keystore.keys().unseal("notes", "text", 2, sealed) == b"kept"
        assert len([k for k in keystore.keys().store.all(["primary"]) if k.owner == owner]) == 1


def test_two_processes_making_an_owners_first_key_agree_on_one(
    app: Flask, make_app: Callable[[], Flask]
) -> None:
    owner = KeyOwner.authority(make_authority(app))
    with make_app().app_context():
        theirs = keystore.keys().primary_key_id(owner)
        db.session.commit()
    with app.app_context():
        manager = keystore.keys()
        # This process did not see their key when it looked, and now tries to add its own:
        # it is refused without harming the transaction, and takes theirs.
        assert manager._create(owner).id == theirs
        blob = manager.seal(owner, "notes", "text", 1, b"under their key")
        db.session.commit()
        assert int.from_bytes(blob[1:5], "big") == theirs


def test_a_destroyed_case_key_leaves_nothing_readable(app: Flask) -> None:
    authority_id = make_authority(app)
    owner = KeyOwner.case(uuid.uuid4(), authority_id)
    with app.app_context():
        manager = keystore.keys()
        blob = manager.seal(owner, "cases", "narrative", owner.id, b"what happened")
        assert manager.unseal("cases", "narrative", owner.id, blob) == b"what happened"
        key_id = manager.primary_key_id(owner)
        stored = manager.store.get(key_id)
        assert stored
        assert stored.wrapped_by == "data"  # wrapped by the authority's key, not the KEK
        manager.destroy(key_id)
        with pytest.raises(DecryptionError, match="has been destroyed"):
            manager.unseal("cases", "narrative", owner.id, blob)


def test_the_app_will_not_start_with_a_wrong_keyring(
    app: Flask, database: Database, tmp_path: Path
) -> None:
    make_account(app, Role.LADO, authority_id=make_authority(app))  # creates a data key
    with pytest.raises(ConfigError, match="the keyring does not open data key") as error:
        create_app(settings_for_tests(database.url, tmp_path, keyring=new_keyring()))
    assert "\n" not in str(error.value)


def test_the_app_will_not_start_with_the_wrong_index_key(
    app: Flask, database: Database, tmp_path: Path
) -> None:
    """The right key-encryption key but another index key: sign-in would find no one."""
    with app.app_context():
        keystore.check_index_keys()  # as the portal's first start did
    document = json.loads(TEST_KEYRING.to_json())
    document["index"][0]["material"] = base64.b64encode(secrets.token_bytes(32)).decode()
    wrong_index = parse(json.dumps(document), "test")
    with pytest.raises(ConfigError, match="index key 1 in the keyring is not the one"):
        create_app(settings_for_tests(database.url, tmp_path, keyring=wrong_index))


def test_the_app_will_not_start_when_a_sentinel_fails(
    app: Flask, database: Database, tmp_path: Path
) -> None:
    make_account(app, Role.LADO, authority_id=make_authority(app))
    with app.app_context():
        key = db.session.scalars(select(DataKey)).one()
        key.sentinel = key.sentinel[:-1] + bytes([key.sentinel[-1] ^ 1])  # type: ignore[index]
        db.session.commit()
    with pytest.raises(ConfigError, match="does not open data key"):
        create_app(settings_for_tests(database.url, tmp_path))


def test_rotation_interrupted_and_resumed(app: Flask, make_app: object) -> None:
    """Rotate; re-encrypt part; 'crash'; a fresh process finishes; status shows only the
    new key, and every value still reads."""
    authority_id = make_authority(app)
    accounts = [make_account(app, Role.LADO, authority_id=authority_id) for _ in range(12)]
    with app.app_context():
        manager = keystore.keys()
        old = manager.primary_key_id(KeyOwner.deployment())
        new = manager.rotate(KeyOwner.deployment()).id
        db.session.commit()
        users = [c for c in keystore.sealed_columns() if c.logical_table == "users"]
        part = reencrypt(db.engine, users, manager, batch=5, limit=15)
        assert 15 <= part.reencrypted < 12 * len(users)  # stopped part-way
    restarted = make_app()  # type: ignore[operator]
    with restarted.app_context():
        manager = keystore.keys()
        for columns in by_table(keystore.sealed_columns()):
            reencrypt(db.engine, columns, manager, batch=5)
        with db.engine.connect() as connection:
            for sealed in keystore.sealed_columns():
                status = column_status(connection, sealed, manager)
                assert status.failures == 0, status.first_failure
                assert set(status.by_key) <= {new}, (sealed.label, status.by_key)
        names = {db.session.get(User, account.id).full_name for account in accounts}  # type: ignore[union-attr]
        assert names == {account.full_name for account in accounts}
        assert old != new


def test_a_row_changed_during_reencryption_is_retried_not_overwritten(app: Flask) -> None:
    from portal.crypto import rotation

    first, _second = _two_users(app)
    with app.app_context():
        manager = keystore.keys()
        manager.rotate(KeyOwner.deployment())
        db.session.commit()
        columns = [c for c in keystore.sealed_columns() if c.label == "users.full_name"]
        column = columns[0]
        with db.engine.connect() as connection:
            row = connection.execute(
                select(column.id_column, column.column).where(column.id_column == first)
            ).one()
        progress = rotation.Progress(column.label)
        stale = rotation._resealed(columns, manager, row, progress, {})
        assert stale is not None
        # Meanwhile, the portal renames the person (under the new key).
        user = db.session.get(User, first)
        assert user
        user.full_name = "Renamed Person"
        db.session.commit()
        rotation._write(db.engine, columns, manager, [stale], progress)
        assert progress.retried == 1  # the compare-and-swap saw the change, read it again
        db.session.expire_all()
        assert db.session.get(User, first).full_name == "Renamed Person"  # type: ignore[union-attr]


def test_keys_status_reports_failures(app: Flask) -> None:
    first, _second = _two_users(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "status"])
    assert result.exit_code == 0, result.output
    assert "users.full_name:" in result.output
    sealed = _raw(app, first, "full_name")
    # The last byte changed, whatever it was (setting it to 0 failed 1 run in 256).
    _write_raw(app, first, "full_name", sealed[:-1] + bytes([sealed[-1] ^ 0x01]))
    result = runner.invoke(args=["keys", "status"])
    assert result.exit_code == 1
    assert "1 FAIL to decrypt" in result.output
    assert f"users.full_name of row {first}" in result.output


def test_a_key_made_in_a_savepoint_that_rolls_back_is_never_used(
    app: Flask, make_app: Callable[[], Flask]
) -> None:
    owner = KeyOwner.authority(make_authority(app))
    with app.app_context():
        manager = keystore.keys()

        def seal_then_fail() -> None:
            with db.session.begin_nested():
                manager.seal(owner, "notes", "text", 1, b"never kept")  # the first key
                raise RuntimeError

        with pytest.raises(RuntimeError):
            seal_then_fail()
        sealed = manager.seal(owner, "notes", "text", 2, b"kept")
        db.session.commit()
    with make_app().app_context():
        assert keystore.keys().unseal("notes", "text", 2, sealed) == b"kept"


def test_a_row_re_added_after_a_rollback_is_sealed_again(
    app: Flask, people: type[Person], make_app: Callable[[], Flask]
) -> None:
    """Its first flush sealed it under a key that the rollback took away."""
    authority_id = make_authority(app)
    with app.app_context():
        person = Person(authority_id=authority_id, name="Ann Lee", dob=datetime.date(2001, 1, 1))
        db.session.add(person)
        db.session.flush()  # sealed under the authority's first key, made just now
        db.session.rollback()
        db.session.add(person)
        db.session.commit()
        person_id = person.id
    assert _name_read_by_another_process(make_app, person_id) == "Ann Lee"


def test_a_value_whose_sealing_failed_is_kept_for_the_retry(
    app: Flask, people: type[Person], make_app: Callable[[], Flask]
) -> None:
    with app.app_context():
        person = Person(name="Ann Lee", dob=datetime.date(2001, 1, 1))  # no owner yet
        db.session.add(person)
        with pytest.raises(ValueError, match="set its owner before flushing"):
            db.session.flush()
        person.authority_id = make_authority(app)
        db.session.commit()
        person_id = person.id
    assert _name_read_by_another_process(make_app, person_id) == "Ann Lee"


def _name_read_by_another_process(make_app: Callable[[], Flask], person_id: uuid.UUID) -> str:
    """Read with nothing cached: only what was committed, under keys that exist."""
    with make_app().app_context():
        person = db.session.get(Person, person_id)
        assert person
        return person.name


def test_a_row_that_changes_owner_moves_to_the_new_owners_key(
    app: Flask, people: type[Person]
) -> None:
    first, second = make_authority(app), make_authority(app)
    with app.app_context():
        person = Person(authority_id=first, name="Ann Lee", dob=datetime.date(2001, 1, 1))
        db.session.add(person)
        db.session.commit()
        person.authority_id = second
        db.session.commit()
        manager = keystore.keys()
        second_key = manager.primary_key_id(KeyOwner.authority(second))
        sealed = [person._sealed_name, person._sealed_dob]  # type: ignore[attr-defined]
        assert {int.from_bytes(blob[1:5], "big") for blob in sealed} == {second_key}
        db.session.expire_all()
        assert person.name == "Ann Lee"


def test_a_value_of_the_wrong_type_is_refused_without_quoting_it(app: Flask) -> None:
    from portal.crypto.fields import encrypted_field

    owner = KeyOwner.authority(make_authority(app))
    with app.app_context():
        manager = keystore.keys()
        blob = manager.seal(owner, "test_people", "dob", "row-1", b"Ann Lee's secret")
        with pytest.raises(DecryptionError) as error:
            encrypted_field(Person, "dob").open(manager, "test_people", "row-1", blob)
        assert "secret" not in str(error.value)
