"""Repeat subjects: the earlier contacts about the same person, in this authority and
the others of the deployment, found through the subject's blind index (date of birth
and name, however the name was written) and confirmed by decrypting the candidates.

Another authority's contact is shown by its metadata only (when, which authority, the
category, where it got to) and who to ask there: never its names or its story.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import abort
from sqlalchemy import select

from portal import audit, keystore
from portal.extensions import db
from portal.models import AuditKind, Authority, Case, CaseStatus, Subject, User
from portal.vocabulary import HarmCategory

PERSON = next(index for index in Subject.__blind_indexes__ if index.kind == "subject.dob_name")


@dataclass(frozen=True)
class EarlierContact:
    case_id: uuid.UUID
    authority: Authority
    reference: str | None
    received_at: datetime | None
    category: HarmCategory | None
    status: CaseStatus


def earlier_contacts(case: Case) -> list[EarlierContact]:
    """Other sent cases about the same person, newest first."""
    subject = case.subject
    if subject is None or subject.date_of_birth is None or not subject.full_name:
        return []
    subject_ids = keystore.find_ids(
        Subject, PERSON, date_of_birth=subject.date_of_birth, full_name=subject.full_name
    )
    others = [subject_id for subject_id in subject_ids if subject_id != subject.id]
    if not others:
        return []
    rows = db.session.execute(
        select(Case, Authority)
        .join(Subject, Subject.case_id == Case.id)
        .join(Authority, Authority.id == Case.authority_id)
        .where(Subject.id.in_(others), Case.status != CaseStatus.DRAFT)
        .order_by(Case.received_at.desc())
    ).all()
    return [
        EarlierContact(
            row.Case.id,
            row.Authority,
            row.Case.reference,
            row.Case.received_at,
            row.Case.harm_category,
            row.Case.status,
        )
        for row in rows
    ]


def record_look_up(
    user: User, case: Case, found: list[EarlierContact], address_hash: str | None
) -> None:
    audit.about_case(
        AuditKind.CASE_REPEATS_LOOKED_UP,
        case,
        user.id,
        address_hash,
        found=len(found),
        other_authorities=len(
            {c.authority.id for c in found if c.authority.id != case.authority_id}
        ),
    )


def earlier_record_or_404(case: Case, earlier_id: uuid.UUID) -> EarlierContact:
    """One of this case's earlier contacts, or 404: another authority's record can be
    reached only from a case about the same person."""
    found = next((c for c in earlier_contacts(case) if c.case_id == earlier_id), None)
    if found is None:
        abort(404)
    return found


def record_opened(
    user: User, case: Case, earlier: EarlierContact, address_hash: str | None
) -> None:
    audit.about_case(
        AuditKind.CASE_EARLIER_RECORD_OPENED,
        case,
        user.id,
        address_hash,
        earlier_case=earlier.case_id,
        earlier_authority=earlier.authority.id,
    )
    db.session.commit()
