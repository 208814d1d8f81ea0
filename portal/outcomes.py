"""How a referral ends: its outcome (and so how long it is kept), the concluding actions,
and referrals of the person to the DBS and regulators. All in clear columns: the annual
report counts them without opening a sealed field."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from portal.extensions import db
from portal.models import Case, CaseConclusion, OnwardReferral
from portal.retention import add_years, retained_until
from portal.vocabulary import ConcludingAction, OnwardBody, Outcome
from portal.workdays import uk_date


def allegation_date(case: Case) -> date:
    """When the allegation was made: the incident's date if known, else when the LADO
    received it."""
    if case.incident_on is not None:
        return case.incident_on
    return uk_date(case.received_at or case.created_at)


def months_between(start: date, end: date) -> int:
    """Calendar months from ``start`` to ``end``, rounded up: 0 on the same day, 1 up to
    the same date next month, and so on."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and add_years(start, 0, months) < end:
        months += 1
    elif months > 0 and add_years(start, 0, months - 1) >= end:
        months -= 1
    return max(months, 1 if end > start else 0)


def record(case: Case, outcome: Outcome, on: date) -> None:
    case.outcome = outcome
    case.outcome_on = on
    case.outcome_months = months_between(uk_date(case.received_at or case.created_at), on)
    born = case.subject.date_of_birth if case.subject else None
    case.retained_until = retained_until(allegation_date(case), born)
    # A malicious allegation is removed from the subject's personnel records (KCSIE).
    case.remove_from_personnel_records = outcome == Outcome.MALICIOUS


def conclude(
    case: Case,
    actions: Iterable[ConcludingAction],
    on: date,
    referrals: Iterable[tuple[OnwardBody, date, str | None]],
) -> None:
    """The concluding actions, and where the person was referred on (a body, its date and,
    for another body, its name)."""
    for kind in actions:
        db.session.add(
            CaseConclusion(
                id=uuid.uuid4(), case_id=case.id, authority_id=case.authority_id, kind=kind, on=on
            )
        )
    for body, referred_on, other in referrals:
        referral = OnwardReferral(
            id=uuid.uuid4(),
            case_id=case.id,
            authority_id=case.authority_id,
            body=body,
            on=referred_on,
        )
        if body == OnwardBody.OTHER:
            referral.other_body = (other or "").strip() or None
        db.session.add(referral)
