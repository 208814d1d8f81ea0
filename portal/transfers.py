"""Transferring a case to another authority of the deployment (the subject lives or
works there, say): the case, its history and its key go to the receiving authority,
whose LADOs are told; the sending authority keeps a clear record that it did so.

Nothing is decrypted or sealed again: the case's data key is wrapped again under the
receiving authority's key, and the rows that belong to the case change authority. Called
by portal.workflow as the effect of the "transfer" decision, in its transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table, select, update

from portal import access, audit, keystore, notify
from portal.crypto.keys import KeyOwner
from portal.extensions import db
from portal.models import (
    AuditKind,
    Authority,
    Base,
    Case,
    CaseTransfer,
    DataKey,
    Deadline,
    StoredFile,
)

# Tables with a case's rows that stay with the authority that made them: its audit trail
# (append-only), and deadlines it already met or missed (its timeliness figures).
KEPT_BY_THE_SENDER = frozenset({"audit_events", "deadlines"})


def case_tables() -> list[Table]:
    """Every table whose rows belong to one case and carry its authority: they go with
    the case. (A table added later goes too, unless it is named above.)"""
    return [
        table
        for table in Base.metadata.sorted_tables
        if {"case_id", "authority_id"} <= set(table.c.keys())
        and table.name not in KEPT_BY_THE_SENDER
    ]


def hand_over(
    case: Case,
    to_authority: Authority,
    actor_id: uuid.UUID,
    *,
    now: datetime,
    address_hash: str | None,
) -> CaseTransfer:
    """Move the case to ``to_authority``, as a contact it received ``now``. The caller
    (portal.workflow) has checked the move and commits."""
    db.session.flush()  # deadlines met by the decision stay with the sender
    from_authority_id = case.authority_id
    transfer = CaseTransfer(
        id=uuid.uuid4(),
        case_id=case.id,
        from_authority_id=from_authority_id,
        to_authority_id=to_authority.id,
        reference=case.reference or "",
        received_at=case.received_at or now,
        transferred_at=now,
        transferred_by_id=actor_id,
    )
    db.session.add(transfer)
    _rewrap_case_keys(case.id, to_authority.id)
    connection = db.session.connection()
    moved = {"authority_id": to_authority.id}
    for table in case_tables():
        connection.execute(update(table).where(table.c.case_id == case.id).values(moved))
    connection.execute(
        update(Deadline)
        .where(Deadline.case_id == case.id, Deadline.met_at.is_(None))
        .values(moved)
        .execution_options(synchronize_session=False)
    )
    connection.execute(
        update(StoredFile)
        .where(StoredFile.owner_kind == "case", StoredFile.owner_id == case.id)
        .values(owner_authority_id=to_authority.id)
        .execution_options(synchronize_session=False)
    )
    connection.execute(
        update(Case)
        .where(Case.id == case.id)
        # Received anew, with no decision yet: the receiver decides (its report counts
        # the case as its contact, the sender's as a transfer).
        .values(authority_id=to_authority.id, assigned_to_id=None, received_at=now, decision=None)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()  # rows loaded before still name the sender
    audit.about_case(
        AuditKind.CASE_TRANSFERRED_IN,
        case,
        actor_id,
        address_hash,
        from_authority_id=from_authority_id,
    )
    sender = db.session.get_one(Authority, from_authority_id)
    for lado in access.ladoes_of(to_authority):
        notify.queue_email(
            "case_transferred_in",
            lado.email,
            related_user_id=lado.id,
            full_name=lado.full_name,
            reference=case.reference,
            from_authority=sender.display_name,
            to_authority=to_authority.display_name,
            sign_in_url=notify.absolute_url("auth.sign_in"),
        )
    return transfer


def _rewrap_case_keys(case_id: uuid.UUID, to_authority_id: uuid.UUID) -> None:
    """The case's keys, wrapped by the receiving authority's key from now on: its staff
    can read the case, and destroying the case (or that authority's data) still works
    key by key. The sender's key no longer opens anything of it."""
    keys = keystore.keys()
    owner = KeyOwner.case(case_id, to_authority_id)
    ids = db.session.scalars(
        select(DataKey.id).where(
            DataKey.owner_kind == "case",
            DataKey.owner_id == case_id,
            DataKey.state.in_(("primary", "decrypt_only")),
        )
    ).all()
    for key_id in ids:
        stored = keys.store.get(key_id)
        if stored is not None:
            keys.rewrap(stored, owner)
