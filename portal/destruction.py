"""Destroying cases at the end of their retention, with two people and legal holds.

A LADO manager proposes a batch of the cases past their retention date (none under a
legal hold); another approves it with a fresh authenticator code; ``flask retention run``
(cron) destroys the approved batches' cases. Destroying a case deletes its personal
fields, notes, updates, actions and files, and destroys its data keys, so nothing sealed
under them can be read again; the clear columns stay (status, dates, category, outcome,
meetings, concluding actions, referrals on, deadlines), so past annual reports still add
up. The audit trail keeps its events: they hold ids and codes only.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, delete, func, select, update

from portal import audit, files, keystore
from portal.crypto import fields
from portal.extensions import db
from portal.models import (
    AuditKind,
    Authority,
    Base,
    BlindIndexEntry,
    Case,
    CaseStatus,
    DataKey,
    DestructionBatch,
    DestructionItem,
    Invitation,
    LegalHold,
    Meeting,
    StoredFile,
    SubjectLink,
    User,
    utcnow,
)


class RetentionError(ValueError):
    """Something a LADO manager cannot do now; the message says why, for the page."""


# Legal holds


def active_hold(case: Case) -> LegalHold | None:
    return db.session.scalars(
        select(LegalHold).where(LegalHold.case_id == case.id, LegalHold.lifted_at.is_(None))
    ).first()


def place_hold(case: Case, user: User, reason: str, address_hash: str | None) -> LegalHold:
    if case.destroyed_at is not None:
        raise RetentionError("This case has been destroyed")
    if active_hold(case) is not None:
        raise RetentionError("This case is already under a legal hold")
    hold = LegalHold(
        case_id=case.id, authority_id=case.authority_id, reason=reason, set_by_id=user.id
    )
    db.session.add(hold)
    audit.about_case(AuditKind.LEGAL_HOLD_PLACED, case, user.id, address_hash)
    return hold


def lift_hold(case: Case, user: User, address_hash: str | None) -> None:
    hold = active_hold(case)
    if hold is None:
        raise RetentionError("This case is not under a legal hold")
    hold.lifted_by_id, hold.lifted_at = user.id, utcnow()
    audit.about_case(AuditKind.LEGAL_HOLD_LIFTED, case, user.id, address_hash)


def _held() -> Select[Any]:
    return select(LegalHold.case_id).where(LegalHold.lifted_at.is_(None))


def _in_open_batch() -> Select[Any]:
    """Cases in a batch not yet withdrawn or run."""
    return (
        select(DestructionItem.case_id)
        .join(DestructionBatch)
        .where(DestructionBatch.withdrawn_at.is_(None), DestructionBatch.done_at.is_(None))
    )


def _past_retention(today: date) -> tuple[ColumnElement[bool], ...]:
    """Cases past their retention date and not yet destroyed."""
    return (
        Case.status != CaseStatus.DRAFT,
        Case.retained_until < today,
        Case.destroyed_at.is_(None),
    )


def _free_to_propose() -> tuple[ColumnElement[bool], ...]:
    """Neither held nor in a batch already."""
    return (Case.id.not_in(_held()), Case.id.not_in(_in_open_batch()))


def due(authority: Authority, today: date) -> Select[Case]:
    """The authority's cases past their retention date and not yet destroyed, soonest
    first (held ones included: the page shows them with their hold)."""
    return (
        select(Case)
        .where(Case.authority_id == authority.id, *_past_retention(today))
        .order_by(Case.retained_until, Case.reference)
    )


def held_ids(case_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    return set(db.session.scalars(_held().where(LegalHold.case_id.in_(case_ids))))


# Batches: one proposes, another approves


def propose(
    authority: Authority, user: User, today: date, address_hash: str | None
) -> DestructionBatch:
    """Every due case not under a hold and not in another open batch."""
    cases = db.session.scalars(due(authority, today).where(*_free_to_propose())).all()
    if not cases:
        raise RetentionError("No case is due for destruction that is not held or proposed already")
    batch = DestructionBatch(authority_id=authority.id, proposed_by_id=user.id)
    batch.items = [DestructionItem(case_id=c.id, reference=c.reference or "") for c in cases]
    db.session.add(batch)
    db.session.flush()
    audit.record(
        AuditKind.DESTRUCTION_PROPOSED,
        actor_id=user.id,
        authority_id=authority.id,
        address_hash=address_hash,
        batch=batch.id,
        cases=len(cases),
    )
    return batch


def approve(batch: DestructionBatch, user: User, address_hash: str | None) -> None:
    if batch.state != "proposed":
        raise RetentionError(f"This batch has been {batch.state} already")
    if batch.proposed_by_id == user.id:
        raise RetentionError("You proposed this batch: another LADO manager must approve it")
    batch.approved_by_id, batch.approved_at = user.id, utcnow()
    _batch_event(AuditKind.DESTRUCTION_APPROVED, batch, user, address_hash)


def withdraw(batch: DestructionBatch, user: User, address_hash: str | None) -> None:
    if batch.state not in ("proposed", "approved"):
        raise RetentionError(f"This batch has been {batch.state} already")
    batch.withdrawn_by_id, batch.withdrawn_at = user.id, utcnow()
    _batch_event(AuditKind.DESTRUCTION_WITHDRAWN, batch, user, address_hash)


def _batch_event(
    kind: AuditKind, batch: DestructionBatch, user: User, address_hash: str | None
) -> None:
    audit.record(
        kind,
        actor_id=user.id,
        authority_id=batch.authority_id,
        address_hash=address_hash,
        batch=batch.id,
        cases=len(batch.items),
    )


# The run


@dataclass
class RunReport:
    destroyed: list[str] = field(default_factory=list)  # references
    skipped: list[tuple[str, str]] = field(default_factory=list)  # reference, why
    awaiting_proposal: int = 0
    awaiting_approval: int = 0


SKIPPED_BECAUSE = {
    "legal_hold": "under a legal hold",
    "not_due": "its retention date has moved",
    "destroyed": "destroyed already",
}


def run(today: date, *, dry_run: bool = False) -> RunReport:
    """Destroy the cases of every approved batch, one case per transaction (a crash
    leaves each case whole or destroyed). With ``dry_run``, only say what would go."""
    report = RunReport()
    batches = db.session.scalars(
        select(DestructionBatch).where(
            DestructionBatch.approved_at.is_not(None),
            DestructionBatch.withdrawn_at.is_(None),
            DestructionBatch.done_at.is_(None),
        )
    ).all()
    for batch in batches:
        for item in batch.items:
            if item.destroyed_at or item.skipped:
                continue
            case = db.session.get(Case, item.case_id)
            why = _why_not(case, today)
            if why:
                report.skipped.append((item.reference, SKIPPED_BECAUSE[why]))
                if not dry_run:
                    item.skipped = why
                    db.session.commit()
                continue
            report.destroyed.append(item.reference)
            if not dry_run and case is not None:
                destroy_case(case, batch)
                item.destroyed_at = utcnow()
                db.session.commit()
        if not dry_run:
            batch.done_at = utcnow()
            db.session.commit()
    report.awaiting_approval = (
        db.session.scalar(
            select(func.count())
            .select_from(DestructionItem)
            .join(DestructionBatch)
            .where(DestructionBatch.approved_at.is_(None), DestructionBatch.withdrawn_at.is_(None))
        )
        or 0
    )
    report.awaiting_proposal = (
        db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where(*_past_retention(today), *_free_to_propose())
        )
        or 0
    )
    return report


def _why_not(case: Case | None, today: date) -> str | None:
    if case is None or case.destroyed_at is not None:
        return "destroyed"
    if active_hold(case) is not None:
        return "legal_hold"
    if case.retained_until is None or case.retained_until >= today:
        return "not_due"
    return None


def destroy_case(case: Case, batch: DestructionBatch | None = None) -> None:
    """Delete everything of a case but its clear columns, and destroy its keys. Part of
    the caller's transaction; refuses a case under a legal hold."""
    if active_hold(case) is not None:
        raise RetentionError("This case is under a legal hold")
    case_id = case.id
    # What other people may still hold of it: a subject's access, an unused invitation.
    db.session.execute(delete(SubjectLink).where(SubjectLink.case_id == case_id))
    db.session.execute(delete(Invitation).where(Invitation.case_id == case_id))
    # Blind index entries of its rows (a subject found by name and date of birth).
    for model, _index in keystore.indexed_models():
        if _owned_by_cases(model):
            table = cast(Table, cast(Base, model).__table__)
            db.session.execute(
                delete(BlindIndexEntry).where(
                    BlindIndexEntry.owner_id.in_(
                        select(table.c.id).where(table.c.case_id == case_id)
                    )
                )
            )
    # Rows that are nothing but what its key sealed (notes, updates, actions,
    # attachments), those that depend on them first.
    doomed = rows_deleted_with_a_case()
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in doomed:
            db.session.execute(delete(table).where(table.c.case_id == case_id))
    # Every other sealed field emptied.
    db.session.execute(
        update(Meeting).where(Meeting.case_id == case_id).values(minutes_file_id=None)
    )
    for table, columns in _sealed_fields_kept_empty(doomed).items():
        key = table.c.id if table.name == "cases" else table.c.case_id
        db.session.execute(
            update(table).where(key == case_id).values({name: None for name in columns})
        )
    for stored in db.session.scalars(
        select(StoredFile).where(StoredFile.owner_kind == "case", StoredFile.owner_id == case_id)
    ):
        files.delete_file(stored)
    db.session.execute(update(Case).where(Case.id == case_id).values(destroyed_at=utcnow()))
    db.session.flush()
    manager = keystore.keys()
    for key_id in db.session.scalars(
        select(DataKey.id).where(
            DataKey.owner_kind == "case",
            DataKey.owner_id == case_id,
            DataKey.state != "destroyed",
        )
    ).all():
        manager.destroy(key_id)
    audit.about_case(
        AuditKind.CASE_DESTROYED,
        case,
        None,
        None,
        batch=batch.id if batch else None,
    )
    db.session.expire_all()


def _owned_by_cases(model: type) -> bool:
    return fields.owner_spec(model).kind == "case"


@functools.cache  # the schema's, the same for every case
def rows_deleted_with_a_case() -> frozenset[str]:
    """Tables with a required sealed field of a case (so no row can stay without it),
    and the tables that refer to them."""
    doomed = {
        sealed.table.name
        for sealed in keystore.sealed_columns()
        if sealed.owner.kind == "case" and not sealed.column.nullable
    }
    grew = True
    while grew:
        grew = False
        for table in Base.metadata.sorted_tables:
            if table.name not in doomed and any(
                fk.column.table.name in doomed for fk in table.foreign_keys
            ):
                doomed.add(table.name)
                grew = True
    return frozenset(doomed)


@functools.cache
def _sealed_fields_kept_empty(doomed: frozenset[str]) -> dict[Table, list[str]]:
    emptied: dict[Table, list[str]] = {}
    for sealed in keystore.sealed_columns():
        if sealed.owner.kind == "case" and sealed.table.name not in doomed:
            emptied.setdefault(sealed.table, []).append(sealed.column.name)
    return emptied
