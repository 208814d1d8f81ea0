"""The timeliness dashboard: how the authority is doing against the time-scales, for any
range of dates. Counted by the database from clear columns, as the annual report is, and
with the same timeliness and delay tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Authority, Case, CaseStatus, Deadline, DeadlineKind, utcnow
from portal.reports.annual import (
    Cell,
    Table,
    contacts_in,
    count_where,
    delays_table,
    timeliness_table,
)
from portal.workdays import start_of_uk_day
from portal.workflow import DEADLINE_RULES

# Not open: nothing more will happen to these (a transfer is the other authority's now).
ENDED = (CaseStatus.DRAFT, CaseStatus.CLOSED, CaseStatus.TRANSFERRED)
AGES = (("Under 1 month", 0, 30), ("1 to 3 months", 30, 91), ("3 to 12 months", 91, 365),
        ("Over 12 months", 365, None))  # fmt: skip


@dataclass
class Dashboard:
    authority: Authority
    start: date
    end: date  # the last day counted
    tables: list[Table]


def dashboard(authority: Authority, start: date, end: date) -> Dashboard:
    since, until = start_of_uk_day(start), start_of_uk_day(end + timedelta(days=1))
    in_range = contacts_in(authority.id, since, until)
    timeliness = timeliness_table(authority.id, in_range, since, until)
    return Dashboard(
        authority,
        start,
        end,
        [
            _open_by_age(authority),
            timeliness,
            _overdue(authority),
            delays_table(authority.id, since, until),
        ],
    )


def _open_by_age(authority: Authority) -> Table:
    now = utcnow()
    buckets = []
    for _, low, high in AGES:
        conditions = [Case.received_at <= now - timedelta(days=low)]
        if high is not None:
            conditions.append(Case.received_at > now - timedelta(days=high))
        buckets.append(count_where(*conditions))
    counts = db.session.execute(
        select(*buckets).where(Case.authority_id == authority.id, Case.status.not_in(ENDED))
    ).one()
    rows: list[list[Cell]] = [
        [name, count] for (name, _, _), count in zip(AGES, counts, strict=True)
    ]
    return Table("open", "Open cases by age", ["Age", "Cases"], rows)


def _overdue(authority: Authority) -> Table:
    counted = dict(
        db.session.execute(
            select(Deadline.kind, func.count())
            .where(
                Deadline.authority_id == authority.id,
                Deadline.met_at.is_(None),
                Deadline.due_at < utcnow(),
            )
            .group_by(Deadline.kind)
        ).all()
    )
    rows: list[list[Cell]] = [
        [DEADLINE_RULES[kind].label, counted.get(kind, 0)] for kind in DeadlineKind
    ]
    return Table("overdue", "Overdue now, by time-scale", ["Time-scale", "Overdue"], rows)
