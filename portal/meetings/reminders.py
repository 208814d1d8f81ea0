"""Reminders about information requests not yet sent: one when a request is due by the
end of tomorrow, one once it is overdue. `flask reminders` (cron, e.g. hourly) may run
as often as it likes, in several processes at once: a reminder is recorded with a unique
(request, rule) key before its e-mails are queued, in the same transaction, so each rule
sends once per request."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select

from portal.extensions import db
from portal.formatting import date_and_time
from portal.meetings.service import answerers, tell
from portal.models import (
    Case,
    InformationRequest,
    Organisation,
    RequestReminder,
    utcnow,
)
from portal.models.base import insert_unless_exists
from portal.workdays import end_of_uk_day, uk_date

REMINDERS = cast(Table, RequestReminder.__table__)
DUE_TOMORROW = "due_tomorrow"
OVERDUE = "overdue"


def send(now: datetime | None = None) -> int:
    """Queue the reminders due now; how many requests were reminded."""
    now = now or utcnow()
    tomorrow_ends = end_of_uk_day(uk_date(now) + timedelta(days=1))
    outstanding = db.session.scalars(
        select(InformationRequest).where(
            InformationRequest.submitted_at.is_(None),
            InformationRequest.due_at <= tomorrow_ends,
        )
    ).all()
    reminded = 0
    for request in outstanding:
        rule = OVERDUE if request.due_at < now else DUE_TOMORROW
        if _first_time(request.id, rule, now):
            _tell(request, rule)
            reminded += 1
    db.session.commit()
    return reminded


def _first_time(request_id: uuid.UUID, rule: str, now: datetime) -> bool:
    connection = db.session.connection()
    inserted = connection.execute(
        insert_unless_exists(connection, REMINDERS)
        .values(id=uuid.uuid4(), request_id=request_id, rule=rule, sent_at=now)
        .returning(REMINDERS.c.id)  # a row back only if this run recorded it
    )
    return inserted.scalar() is not None


def _tell(request: InformationRequest, rule: str) -> None:
    organisation = db.session.get_one(Organisation, request.organisation_id)
    tell(
        answerers(organisation),
        f"request_{rule}",
        request.authority_id,
        db.session.scalar(select(Case.reference).where(Case.id == request.case_id)),
        organisation=organisation.name,
        due=date_and_time(request.due_at),
    )
