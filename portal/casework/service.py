"""Changes to a case that are not moves of its status: who it is assigned to, and the
team's notes. Each is audited (without the note's words) in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from portal import access, audit, workflow
from portal.extensions import db
from portal.models import AuditKind, Authority, Case, CaseNote, DeadlineKind, User, utcnow


def officers(authority: Authority, staff: Iterable[User] | None = None) -> list[User]:
    """Who a case can be assigned to: the authority's staff (``staff``, if the caller
    has them already) who work cases."""
    return [
        user
        for user in (staff if staff is not None else db.session.scalars(access.staff_of(authority)))
        if access.Permission.AUTHORITY_CASES_WORK
        in access.permissions_in(user, authority_id=authority.id)
    ]


def assign(user: User, case: Case, officer_id: uuid.UUID | None, address_hash: str | None) -> None:
    case.assigned_to_id = officer_id
    audit.about_case(
        AuditKind.CASE_ASSIGNED, case, user.id, address_hash, target_user_id=officer_id
    )
    db.session.commit()


def add_note(
    user: User, case: Case, text: str, address_hash: str | None, *, progress: bool = False
) -> CaseNote:
    """A note; marked as the progress summary, it meets that 3-monthly clock (if one is
    running) and starts the next."""
    now = utcnow()
    note = CaseNote(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=case.authority_id,
        author_id=user.id,
        created_at=now,
        progress_summary=progress,
    )
    note.text = text.strip()
    db.session.add(note)
    if progress and workflow.meet_deadline(case, DeadlineKind.PROGRESS_SUMMARY, now):
        workflow.start_deadline(case, DeadlineKind.PROGRESS_SUMMARY, now, from_now=True)
    audit.about_case(
        AuditKind.CASE_NOTE_ADDED, case, user.id, address_hash, note=note.id, progress=progress
    )
    db.session.commit()
    return note
