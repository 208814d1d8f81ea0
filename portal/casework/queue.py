"""The triage queue: an authority's open cases, what is due first at the top.

Everything it sorts and filters by is clear in the database (status, category, sector,
source, officer, the deadlines' dates), so one query finds a page of cases; only the
subjects' names on that page are decrypted, to show their initials.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import aliased, selectinload

from portal import access
from portal.extensions import db
from portal.models import Authority, Case, CaseStatus, Deadline, DeadlineKind, Subject, utcnow
from portal.vocabulary import HarmCategory, SubjectSector
from portal.workdays import end_of_uk_day, uk_date, working_days_between

PAGE_SIZE = 25
CLOSED = (CaseStatus.DRAFT, CaseStatus.CLOSED)


SORTS = ("due", "received", "reference")  # the first is the default


@dataclass(frozen=True)
class Filters:
    status: CaseStatus | None = None
    category: HarmCategory | None = None
    sector: SubjectSector | None = None
    officer: uuid.UUID | None = None
    overdue: bool = False
    sort: str = SORTS[0]

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        """From the query string; anything not recognised is ignored, not an error."""

        def pick(enum_class: Any, value: str | None) -> Any:
            try:
                return enum_class(value) if value else None
            except ValueError:
                return None

        officer: uuid.UUID | None = None
        try:
            officer = uuid.UUID(args.get("officer", "")) if args.get("officer") else None
        except ValueError:
            officer = None
        return cls(
            status=pick(CaseStatus, args.get("status")),
            category=pick(HarmCategory, args.get("category")),
            sector=pick(SubjectSector, args.get("sector")),
            officer=officer,
            overdue=args.get("overdue") == "yes",
            sort=args.get("sort") if args.get("sort") in SORTS else SORTS[0],
        )

    def as_args(self) -> dict[str, str]:
        args = {
            "status": self.status.value if self.status else "",
            "category": self.category.value if self.category else "",
            "sector": self.sector.value if self.sector else "",
            "officer": str(self.officer) if self.officer else "",
            "overdue": "yes" if self.overdue else "",
            "sort": self.sort if self.sort != SORTS[0] else "",
        }
        return {name: value for name, value in args.items() if value}


@dataclass(frozen=True)
class Row:
    case: Case
    next_due: datetime | None
    next_kind: DeadlineKind | None

    @property
    def initials(self) -> str:
        subject = self.case.subject
        if subject is None or not subject.full_name:
            return "Not known"
        return "".join(part[0].upper() for part in subject.full_name.split() if part[:1].isalpha())

    def due_tag(self, today: date, now: datetime) -> tuple[str, str]:
        """The deadline's state in words and its tag colour."""
        if self.next_due is None:
            return ("No deadline", "govuk-tag--grey")
        if self.next_due < now:
            return ("Overdue", "govuk-tag--red")
        due_day = uk_date(self.next_due)
        if due_day == today:
            return ("Due today", "govuk-tag--orange")
        days = working_days_between(today, due_day)
        return (f"Due in {days} working day{'' if days == 1 else 's'}", "govuk-tag--blue")


def _next_deadline() -> Any:
    """Each case's soonest open deadline."""
    return (
        select(
            Deadline.case_id,
            func.min(Deadline.due_at).label("next_due"),
        )
        .where(Deadline.met_at.is_(None))
        .group_by(Deadline.case_id)
        .subquery()
    )


def _filtered(authority: Authority, filters: Filters, now: datetime) -> tuple[Select[Any], Any]:
    soonest = _next_deadline()
    query: Select[Any] = (
        access.cases_of(authority)
        .where(Case.status.not_in(CLOSED))
        .outerjoin(soonest, soonest.c.case_id == Case.id)
    )
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(Case.status == filters.status)
    if filters.category:
        conditions.append(Case.harm_category == filters.category)
    if filters.sector:
        subject = aliased(Subject)
        query = query.join(subject, subject.case_id == Case.id)
        conditions.append(subject.sector == filters.sector)
    if filters.officer:
        conditions.append(Case.assigned_to_id == filters.officer)
    if filters.overdue:
        conditions.append(soonest.c.next_due < now)
    return query.where(*conditions), soonest


def page(
    authority: Authority, filters: Filters, number: int, now: datetime | None = None
) -> tuple[list[Row], int]:
    """One page of the queue, soonest deadline first (cases with none last, oldest
    first), and how many cases match in all."""
    now = now or utcnow()
    query, soonest = _filtered(authority, filters, now)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.add_columns(soonest.c.next_due)
        .options(selectinload(Case.subject))
        .order_by(*_order(filters.sort, soonest))
        .limit(PAGE_SIZE)
        .offset((max(number, 1) - 1) * PAGE_SIZE)
    ).all()
    kinds = _kinds([(row.Case.id, row.next_due) for row in rows if row.next_due is not None])
    return [Row(row.Case, row.next_due, kinds.get(row.Case.id)) for row in rows], total


def _order(sort: str, soonest: Any) -> list[Any]:
    if sort == "received":
        return [Case.received_at.desc(), Case.id]
    if sort == "reference":
        return [Case.reference, Case.id]
    # What is due first; cases with no open deadline last, oldest first.
    return [soonest.c.next_due.is_(None), soonest.c.next_due, Case.received_at, Case.id]


def _kinds(due: list[tuple[uuid.UUID, datetime]]) -> dict[uuid.UUID, DeadlineKind]:
    """Which deadline each case's soonest one is."""
    if not due:
        return {}
    found = db.session.execute(
        select(Deadline.case_id, Deadline.kind, Deadline.due_at).where(
            Deadline.case_id.in_([case_id for case_id, _ in due]), Deadline.met_at.is_(None)
        )
    ).all()
    soonest = dict(due)
    return {row.case_id: row.kind for row in found if row.due_at == soonest.get(row.case_id)}


def counts(authority: Authority, now: datetime | None = None) -> dict[str, int]:
    """The figures at the top of the queue, in one query."""
    now = now or utcnow()
    query, soonest = _filtered(authority, Filters(), now)
    base = query.add_columns(soonest.c.next_due).subquery()
    today_ends = end_of_uk_day(uk_date(now))
    row = db.session.execute(
        select(
            func.count().label("open"),
            func.count().filter(base.c.next_due < now).label("overdue"),
            func.count()
            .filter(base.c.next_due >= now, base.c.next_due <= today_ends)
            .label("due_today"),
            func.count().filter(base.c.assigned_to_id.is_(None)).label("unassigned"),
        ).select_from(base)
    ).one()
    return {name: int(value or 0) for name, value in row._mapping.items()}
