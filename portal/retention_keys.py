"""A case's data keys follow its retention, so that destroying a case reaches its backups.

Destroying a case destroys its keys in the database, but a backup taken before still
holds them, wrapped. So once a case has a retention date, its keys are also wrapped
under that month's key from the keyring's retention ratchet (portal/crypto/keyring.py),
which is never in the database. Each month ``flask keys ratchet`` moves the ratchet to
the current month: the keys of earlier months are then nowhere, and no backup can open
a case destroyed before then. A case not yet destroyed in a month being dropped (awaiting
approval) moves to the current month first; a case under a legal hold is wrapped by its
authority's key alone, so a backup can still open it.

Scheduling happens as the session flushes a change of retention date or of hold, so it
commits (or rolls back) with that change, whatever made it: the outcome page, the
tracker import, the demo data.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import event, exists, select
from sqlalchemy.orm import Session, attributes

from portal import keystore
from portal.crypto.keyring import Keyring, month_number
from portal.crypto.keys import StoredKey
from portal.extensions import db
from portal.models import Case, DataKey, LegalHold, utcnow
from portal.workdays import uk_date

LIVE = ("primary", "decrypt_only")


def schedule(case_id: uuid.UUID) -> int:
    """Wrap the case's live keys under the month its retention date falls in (never an
    earlier one than this month), or under none while it is held or has no date.
    Returns how many keys changed wrapping. Nothing without a ratchet in the keyring."""
    manager = keystore.keys()
    if manager.keyring.retention is None:
        return 0
    connection = db.session.connection()
    retained_until = connection.scalar(select(Case.retained_until).where(Case.id == case_id))
    held = connection.scalar(
        select(exists().where(LegalHold.case_id == case_id, LegalHold.lifted_at.is_(None)))
    )
    month = None
    if retained_until is not None and not held:
        month = manager.schedulable_month(
            month_number(retained_until), month_number(uk_date(utcnow()))
        )
    keys = _live_keys(DataKey.owner_id == case_id)
    for stored in keys:
        manager.rewrap(stored, month=month)
    return len(keys)


def ratchet(today: date) -> tuple[Keyring, int, int]:
    """Move the ratchet to ``today``'s month: first every live key of an earlier month to
    this one, and every live key not yet scheduled to its case's month (in the session's
    transaction, which the caller commits before saving the new keyring). Returns the new
    keyring, and how many keys moved and were scheduled."""
    manager = keystore.keys()
    current = manager.keyring.retention
    if current is None:
        raise ValueError("the keyring has no retention ratchet yet")
    this_month = max(month_number(today), current.month)
    moved = 0
    for stored in _live_keys(DataKey.retention_month < this_month):
        manager.rewrap(stored, month=this_month)
        moved += 1
    unscheduled = select(DataKey.owner_id).where(
        DataKey.owner_kind == "case",
        DataKey.state.in_(LIVE),
        DataKey.retention_month.is_(None),
    )
    scheduled = 0
    for case_id in db.session.scalars(
        select(Case.id).where(Case.id.in_(unscheduled), Case.retained_until.is_not(None))
    ).all():
        scheduled += schedule(case_id)
    return manager.keyring.with_ratchet(current.moved_to(this_month)), moved, scheduled


def _live_keys(condition: Any) -> list[StoredKey]:
    rows = db.session.connection().execute(
        select(keystore.KEYS).where(
            keystore.KEYS.c.owner_kind == "case", keystore.KEYS.c.state.in_(LIVE), condition
        )
    )
    return [keystore.stored_key(row) for row in rows]


@event.listens_for(Session, "after_flush")
def _follow_retention(session: Session, _context: Any) -> None:
    """After a flush (the rows are written, the session's lists still show what it
    wrote): reschedule the keys of every case whose date or hold changed."""
    cases = {
        row.id
        for row in (*session.new, *session.dirty)
        if isinstance(row, Case) and attributes.get_history(row, "retained_until").has_changes()
    } | {
        row.case_id
        for row in (*session.new, *session.dirty)
        if isinstance(row, LegalHold)
        and (row in session.new or attributes.get_history(row, "lifted_at").has_changes())
    }
    for case_id in cases:
        schedule(case_id)
