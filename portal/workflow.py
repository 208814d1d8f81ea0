"""How a case moves from one status to the next. The only module that changes a case's
status: each move checks where the case is, makes the change with a conditional UPDATE
(so two requests racing cannot both make it), and does what goes with it.

    draft --submit--> submitted

(The LADO's triage and everything after it arrive with their issues.)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import Table, update

from portal.extensions import db
from portal.models import Authority, Case, CaseStatus, ReferenceCounter, utcnow
from portal.models.base import insert_unless_exists
from portal.vocabulary import LabelledEnum, labels
from portal.workdays import uk_date

COUNTERS = cast(Table, ReferenceCounter.__table__)


class PartnerStatus(LabelledEnum):
    """What a partner organisation is told of where its referral is."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    BEING_CONSIDERED = "being_considered"
    ADVICE_GIVEN = "advice_given"
    REFERRAL_ACCEPTED = "referral_accepted"
    MEETING_ARRANGED = "meeting_arranged"
    CLOSED = "closed"


labels(
    PartnerStatus,
    {
        "draft": "Draft",
        "submitted": "Submitted",
        "being_considered": "Being considered",
        "advice_given": "Advice given",
        "referral_accepted": "Referral accepted",
        "meeting_arranged": "Meeting arranged",
        "closed": "Closed",
    },
)

PARTNER_STATUS = {
    CaseStatus.DRAFT: PartnerStatus.DRAFT,
    CaseStatus.SUBMITTED: PartnerStatus.SUBMITTED,
}


def partner_status(case: Case) -> PartnerStatus:
    return PARTNER_STATUS[case.status]


def submit(case: Case, submitted_by: uuid.UUID, *, now: datetime | None = None) -> bool:
    """Draft to submitted, exactly once: it gets its reference and its received time (the
    submission, unless the LADO recorded when a contact came in). False if it had
    already been submitted (a double click, a second tab): nothing changes then."""
    now = now or utcnow()
    db.session.flush()
    moved = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == CaseStatus.DRAFT)
        .values(status=CaseStatus.SUBMITTED, submitted_at=now, submitted_by_id=submitted_by)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(case)
        return False
    received = case.received_at or now
    authority = db.session.get_one(Authority, case.authority_id)
    db.session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(received_at=received, reference=next_reference(authority, uk_date(received).year))
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(case)
    return True


def next_reference(authority: Authority, year: int) -> str:
    """The next reference in the authority's series for the year: BRK-2026-00042. The
    counter row is locked by the increment until the transaction ends, so two
    submissions never share a number, and a rolled-back one gives its number back."""
    connection = db.session.connection()
    connection.execute(
        insert_unless_exists(connection, COUNTERS).values(
            authority_id=authority.id, year=year, last=0
        )
    )
    last = connection.execute(
        update(COUNTERS)
        .where(COUNTERS.c.authority_id == authority.id, COUNTERS.c.year == year)
        .values(last=COUNTERS.c.last + 1)
        .returning(COUNTERS.c.last)
    ).scalar_one()
    return f"{authority.code}-{year}-{last:05d}"
