"""The retention ratchet: a destroyed case cannot be read from a backup taken before its
destruction, once the ratchet has moved past its month; every other case still can."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text

from portal import destruction, keystore, retention_keys
from portal.crypto import keyring as keyring_module
from portal.crypto.keyring import (
    Keyring,
    KeyringError,
    month_label,
    month_number,
    new_keyring,
    new_ratchet,
    parse,
)
from portal.crypto.keys import KeyDroppedError, KeyManager, StoredKey
from portal.extensions import db
from portal.models import Case, DataKey, LegalHold, Subject, utcnow
from portal.workdays import uk_date
from tests.casework.test_destruction import _past_retention
from tests.client import PortalClient
from tests.conftest import Database
from tests.meetings.test_meetings import lado as lado
from tests.referrals.conftest import Place

THIS_MONTH = month_number(uk_date(utcnow()))


def test_the_ratchet_derives_later_months_and_never_earlier_ones() -> None:
    ratchet = new_ratchet(date(2026, 12, 6))
    assert month_label(ratchet.month) == "2026-12"
    later = ratchet.moved_to(ratchet.month + 2)
    assert later.key_for(ratchet.month + 5) == ratchet.key_for(ratchet.month + 5)
    assert later.key_for(ratchet.month + 1) is None
    assert ratchet.key_for(ratchet.month) != ratchet.key_for(ratchet.month + 1)
    with pytest.raises(ValueError, match="forward"):
        later.moved_to(ratchet.month)


def test_the_keyring_keeps_its_ratchet_and_refuses_a_broken_one() -> None:
    ring = new_keyring()
    assert parse(ring.to_json(), "test") == ring
    old_style = Keyring(kek=ring.kek, index=ring.index)
    assert parse(old_style.to_json(), "test").retention is None
    broken = ring.to_json().replace(month_label(ring.retention.month), "2026-13")  # type: ignore[union-attr]
    with pytest.raises(KeyringError, match="malformed retention"):
        parse(broken, "test")


class _Backup:
    """The data_keys table as a backup holds it: a key store that only reads."""

    def __init__(self, keys: Iterable[StoredKey]) -> None:
        self.keys = {key.id: key for key in keys}

    def get(self, key_id: int) -> StoredKey | None:
        return self.keys.get(key_id)

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"a backup is only read ({name})")


def _sealed_name(database: Database, subject_id: uuid.UUID) -> bytes:
    raw = db.session.execute(
        text("SELECT full_name FROM subjects WHERE id = :id"),
        {"id": subject_id.hex if database.kind == "sqlite" else subject_id},
    ).scalar_one()
    return bytes(raw)


def test_a_backup_from_before_a_destruction_cannot_open_the_case_once_the_month_has_gone(
    app: Flask, database: Database, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    destroyed_id = _past_retention(app, place, dsl, lado)
    kept_id = _past_retention(app, place, dsl, lado)
    with app.app_context():
        kept = db.session.get_one(Case, kept_id)
        kept.retained_until = date(2060, 3, 14)
        db.session.commit()
        # Each case's keys are wrapped under its month: the past one under this month
        # (no earlier month may be used: the ratchet may have passed it already).
        months = dict(db.session.execute(select(DataKey.owner_id, DataKey.retention_month)).all())
        assert months[destroyed_id] == THIS_MONTH
        assert months[kept_id] == month_number(date(2060, 3, 14))
        # The backup: every data key and a sealed name of each case, as they are now.
        backup = _Backup(
            keystore.stored_key(row)
            for row in db.session.connection().execute(select(keystore.KEYS))
        )
        names = {}
        for case_id in (destroyed_id, kept_id):
            subject = db.session.scalars(select(Subject).where(Subject.case_id == case_id)).one()
            names[case_id] = (subject.id, _sealed_name(database, subject.id))
        ring = keystore.keyring()

        destruction.destroy_case(db.session.get_one(Case, destroyed_id))
        db.session.commit()
        # Before the ratchet moves, the backup still opens the destroyed case (which is
        # why it must move).
        before = KeyManager(ring, _Backup(backup.keys.values()))
        assert before.unseal("subjects", "full_name", *names[destroyed_id])

        next_month = date.fromordinal(
            date(THIS_MONTH // 12, THIS_MONTH % 12 + 1, 28).toordinal() + 7
        )
        moved_ring, moved, _scheduled = retention_keys.ratchet(next_month)
        db.session.commit()
        assert moved_ring.retention is not None
        assert moved_ring.retention.month == THIS_MONTH + 1
        assert moved == 0  # no live key of this month is left: the one there was destroyed

        after = KeyManager(moved_ring, backup)
        with pytest.raises(KeyDroppedError, match="has been dropped"):
            after.unseal("subjects", "full_name", *names[destroyed_id])
        # Every other case still opens, from the backup and from the database.
        assert after.unseal("subjects", "full_name", *names[kept_id])
        live = KeyManager(moved_ring, keystore.keys().store)
        assert live.unseal("subjects", "full_name", *names[kept_id])


def test_a_case_past_its_month_but_not_yet_destroyed_moves_forward_and_a_held_one_is_unwrapped(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    waiting_id = _past_retention(app, place, dsl, lado)
    held_id = _past_retention(app, place, dsl, lado)
    with app.app_context():
        held = db.session.get_one(Case, held_id)
        db.session.add(
            LegalHold(
                case_id=held_id,
                authority_id=held.authority_id,
                reason="A claim",
                set_by_id=place.lado.id,
            )
        )
        db.session.commit()
        months = dict(db.session.execute(select(DataKey.owner_id, DataKey.retention_month)).all())
        assert months[held_id] is None  # its authority's key alone: a backup still opens it
        assert months[waiting_id] == THIS_MONTH

        moved_ring, moved, _ = retention_keys.ratchet(uk_date(utcnow()) + timedelta(days=40))
        db.session.commit()
        assert moved == 1
        months = dict(db.session.execute(select(DataKey.owner_id, DataKey.retention_month)).all())
        assert moved_ring.retention is not None
        assert months[waiting_id] == moved_ring.retention.month
        # Still readable with the moved keyring.
        live = KeyManager(moved_ring, keystore.keys().store)
        subject = db.session.scalars(select(Subject).where(Subject.case_id == waiting_id)).one()
        raw = db.session.execute(
            select(Subject.__table__.c.full_name).where(Subject.__table__.c.id == subject.id)
        ).scalar_one()
        assert live.unseal("subjects", "full_name", subject.id, bytes(raw))

        # Lifting the hold schedules the held case again.
        hold = db.session.scalars(select(LegalHold)).one()
        hold.lifted_at = utcnow()
        db.session.commit()
        assert (
            db.session.scalars(
                select(DataKey.retention_month).where(DataKey.owner_id == held_id)
            ).one()
            == THIS_MONTH
        )


def test_flask_keys_ratchet_adds_a_ratchet_then_moves_it(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """Through the command, on a keyring file of its own: a keyring from before the
    ratchet gets one (and nothing depends on it yet); the next run moves it."""
    ring = new_keyring()
    old_style = Keyring(kek=ring.kek, index=ring.index)
    keyring_module.write(old_style, tmp_path / "keys.json")
    own = make_app(keyring=old_style, keyring_path=tmp_path / "keys.json")
    first = own.test_cli_runner().invoke(args=["keys", "ratchet"])
    assert first.exit_code == 0, first.output
    assert "Added a retention ratchet" in first.output
    added = keyring_module.load({}, tmp_path)
    assert added.retention is not None
    assert added.kek == ring.kek
    assert added.index == ring.index
    again = make_app(keyring=added, keyring_path=tmp_path / "keys.json")
    second = again.test_cli_runner().invoke(args=["keys", "ratchet"])
    assert second.exit_code == 0, second.output
    label = month_label(THIS_MONTH)
    assert f"Ratchet moved from {label} to {label}" in second.output
    status = again.test_cli_runner().invoke(args=["keys", "status", "--quick"])
    assert f"retention ratchet at {label}" in status.output
