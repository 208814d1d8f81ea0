"""The triage queue: an authority's open cases, what is due first at the top.

Everything it sorts and filters by is clear in the database (status, category, sector,
source, officer, the deadlines' dates), so one query finds a page of cases; only the
subjects' names on that page are decrypted, to show their initials.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, func, select

from portal import access, keystore
from portal.crypto.fields import logical_table
from portal.extensions import db
from portal.models import (
    OPEN_STATUSES,
    Authority,
    Case,
    CaseStatus,
    DeadlineKind,
    Subject,
    utcnow,
)
from portal.vocabulary import HarmCategory, SourceType, SubjectSector
from portal.workdays import end_of_uk_day, uk_date, working_days_between

PAGE_SIZE = 25


SORTS = ("due", "received", "reference")  # the first is the default
SORT_WORDS = {
    "due": "what is due first at the top",
    "received": "the latest received first",
    "reference": "in order of reference",
}


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

    @property
    def narrowing(self) -> bool:
        """Whether they leave out any open case."""
        return bool(self.status or self.category or self.sector or self.officer or self.overdue)

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
    """One line of the queue: clear columns, and the subject's initials."""

    case_id: uuid.UUID
    reference: str | None
    received_at: datetime | None
    status: CaseStatus
    harm_category: HarmCategory | None
    source_type: SourceType | None
    assigned_to_id: uuid.UUID | None
    sector: SubjectSector | None
    initials: str
    next_due: datetime | None
    next_kind: DeadlineKind | None

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


def initials(full_name: str | None) -> str:
    if not full_name:
        return "Not known"
    return "".join(part[0].upper() for part in full_name.split() if part[:1].isalpha())


SUBJECT_NAME = Subject.full_name
SUBJECTS = cast(Table, Subject.__table__)


def _filtered(authority: Authority, filters: Filters, now: datetime) -> Select[Any]:
    """The authority's open cases that match, with their soonest deadline, as plain rows
    of clear columns (no ORM objects: a page shows 25 of thousands), all read from the
    index of open cases (PostgreSQL: an index-only scan)."""
    columns: list[Any] = [
        Case.id,
        Case.reference,
        Case.received_at,
        Case.status,
        Case.harm_category,
        Case.source_type,
        Case.assigned_to_id,
        Case.next_due_at.label("next_due"),
        Case.next_due_kind.label("next_kind"),
    ]
    query = (
        access.cases_of(authority).with_only_columns(*columns).where(Case.status.in_(OPEN_STATUSES))
    )
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(Case.status == filters.status)
    if filters.category:
        conditions.append(Case.harm_category == filters.category)
    if filters.sector:
        conditions.append(
            Case.id.in_(select(SUBJECTS.c.case_id).where(SUBJECTS.c.sector == filters.sector))
        )
    if filters.officer:
        conditions.append(Case.assigned_to_id == filters.officer)
    if filters.overdue:
        conditions.append(Case.next_due_at < now)
    return query.where(*conditions)


def page(
    authority: Authority, filters: Filters, number: int, now: datetime | None = None
) -> list[Row]:
    """One page of the queue, soonest deadline first (cases with none last, oldest
    first). Then, for that page's 25 cases only, their subjects. With the default order
    the database walks the index of open cases by due date and stops at the page."""
    now = now or utcnow()
    found = db.session.execute(
        _filtered(authority, filters, now)
        .order_by(*_order(filters.sort))
        .limit(PAGE_SIZE)
        .offset((max(number, 1) - 1) * PAGE_SIZE)
    ).all()
    subjects = _subjects([row.id for row in found])
    rows = []
    for row in found:
        sector, name = subjects.get(row.id, (None, None))
        rows.append(
            Row(
                case_id=row.id,
                reference=row.reference,
                received_at=row.received_at,
                status=row.status,
                harm_category=row.harm_category,
                source_type=row.source_type,
                assigned_to_id=row.assigned_to_id,
                sector=sector,
                initials=initials(name),
                next_due=row.next_due,
                next_kind=row.next_kind,
            )
        )
    return rows


def matching(authority: Authority, filters: Filters, now: datetime | None = None) -> int:
    """How many open cases the filters match (with none, the count of open cases the
    page's figures already have)."""
    query = _filtered(authority, filters, now or utcnow())
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _subjects(
    case_ids: list[uuid.UUID],
) -> dict[uuid.UUID, tuple[SubjectSector | None, str | None]]:
    """Each case's subject's sector and name (decrypted: for the initials)."""
    if not case_ids:
        return {}
    keys = keystore.keys()
    table = logical_table(Subject)
    found = db.session.execute(
        select(
            SUBJECTS.c.id,
            SUBJECTS.c.case_id,
            SUBJECTS.c.sector,
            SUBJECTS.c[SUBJECT_NAME.column or "full_name"].label("sealed_name"),
        ).where(SUBJECTS.c.case_id.in_(case_ids))
    )
    return {
        row.case_id: (row.sector, SUBJECT_NAME.open(keys, table, str(row.id), row.sealed_name))
        for row in found
    }


def _order(sort: str) -> list[Any]:
    if sort == "received":
        return [Case.received_at.desc(), Case.id]
    if sort == "reference":
        return [Case.reference, Case.id]
    # What is due first; cases with no open deadline last, oldest first (the order of
    # the index of open cases, ix_cases_open_due).
    return [Case.next_due_at.asc().nulls_last(), Case.received_at, Case.id]


@dataclass(frozen=True)
class Figures:
    """The figures at the top of the queue, and who has open cases."""

    open: int
    overdue: int
    due_today: int
    unassigned: int
    officers: frozenset[uuid.UUID]


def counts(authority: Authority, now: datetime | None = None) -> Figures:
    """The figures, from one reading of the open cases: counted for each officer (a
    few dozen rows), then added up."""
    now = now or utcnow()
    base = _filtered(authority, Filters(), now).subquery()
    today_ends = end_of_uk_day(uk_date(now))
    rows = db.session.execute(
        select(
            base.c.assigned_to_id,
            func.count(),
            func.count().filter(base.c.next_due < now),
            func.count().filter(base.c.next_due >= now, base.c.next_due <= today_ends),
        ).group_by(base.c.assigned_to_id)
    ).all()
    return Figures(
        open=sum(row[1] for row in rows),
        overdue=sum(row[2] for row in rows),
        due_today=sum(row[3] for row in rows),
        unassigned=sum(row[1] for row in rows if row[0] is None),
        officers=frozenset(row[0] for row in rows if row[0] is not None),
    )


@dataclass(frozen=True)
class Choice:
    """One of the queue's filters: its options, and the one chosen ("" for any)."""

    name: str
    label: str
    options: list[tuple[str, str]]
    value: str

    @property
    def text(self) -> str:
        return dict(self.options).get(self.value, "")


def filter_choices(
    filters: Filters,
    workers: set[uuid.UUID],
    names: dict[uuid.UUID, str],
    assigned: frozenset[uuid.UUID],
) -> list[Choice]:
    """The filters' options. Officers are those who work cases (``workers``), and anyone
    who has open cases still (``assigned``: someone who has left, whose cases need
    passing on)."""
    listed = (workers | assigned) & names.keys()
    people = {officer_id: names[officer_id] for officer_id in listed}
    return [
        Choice(
            "status",
            "Status",
            [(status.value, status.label) for status in OPEN_STATUSES],
            filters.status.value if filters.status else "",
        ),
        Choice(
            "category",
            "Category of harm",
            HarmCategory.choices(),
            filters.category.value if filters.category else "",
        ),
        Choice(
            "sector",
            "Sector",
            SubjectSector.choices(),
            filters.sector.value if filters.sector else "",
        ),
        Choice(
            "officer",
            "Officer",
            sorted(
                ((str(officer_id), name) for officer_id, name in people.items()),
                key=lambda option: option[1].casefold(),
            ),
            str(filters.officer) if filters.officer else "",
        ),
    ]
