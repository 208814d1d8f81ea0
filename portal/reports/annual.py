"""The annual report for a reporting year (1 April to 31 March), as every LADO publishes
it (../shared/domain.md, "What authorities report").

Every figure is counted by the database from clear columns: a case's status moves (its
events), category of harm, source, the subject's sector, the outcome and its month
count, deadlines, meetings, concluding actions and referrals on. Nothing sealed is
opened and no case is loaded into Python, so it takes the same few queries for a
hundred cases or a hundred thousand.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from portal.extensions import db
from portal.models import (
    Authority,
    Case,
    CaseConclusion,
    CaseStatus,
    CaseTransfer,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    OnwardReferral,
    Subject,
)
from portal.models.timeline import DelayReason
from portal.vocabulary import (
    ConcludingAction,
    HarmCategory,
    LabelledEnum,
    OnwardBody,
    Outcome,
    SourceType,
    SubjectSector,
)
from portal.workdays import add_months, start_of_uk_day

YEARS_COMPARED = 5
INITIAL_MEETINGS = (
    MeetingKind.STRATEGY_DISCUSSION,
    MeetingKind.EVALUATION,
    MeetingKind.ALLEGATIONS,
)
MONTHS = ("April", "May", "June", "July", "August", "September", "October", "November",
          "December", "January", "February", "March")  # fmt: skip


Cell = str | int | float


@dataclass
class Table:
    key: str  # a short name, for the CSV and the spreadsheet's tab
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class AnnualReport:
    authority: Authority
    first_year: int  # the year the reporting year starts: 2022 for 2022/23
    tables: list[Table]

    @property
    def name(self) -> str:
        return f"{self.first_year}/{str(self.first_year + 1)[-2:]}"


def year_bounds(first_year: int) -> tuple[datetime, datetime]:
    """1 April (UK midnight) to the next 1 April, as instants."""
    return start_of_uk_day(date(first_year, 4, 1)), start_of_uk_day(date(first_year + 1, 4, 1))


def reporting_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


# The case's latest threshold decision (Case.decision): a clear column in the index the
# year's contacts are read from.
REFERRAL = Case.decision == "accept_referral"
CONSULTATION = Case.decision == "give_advice"
TRANSFER = Case.decision == "transfer"


def contacts_in(authority_id: uuid.UUID, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(
        Case.authority_id == authority_id,
        Case.status != CaseStatus.DRAFT,
        Case.received_at >= start,
        Case.received_at < end,
    )


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def count_where(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(and_(*conditions))


def _transfers(authority_id: uuid.UUID, start: datetime, end: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                CaseTransfer.from_authority_id == authority_id,
                CaseTransfer.transferred_at >= start,
                CaseTransfer.transferred_at < end,
            )
        )
        or 0
    )


def _summary(authority_id: uuid.UUID, first_year: int) -> list[Cell]:
    start, end = year_bounds(first_year)
    contacts, consultations, referrals, imported_transfers = db.session.execute(
        select(
            func.count(),
            count_where(CONSULTATION),
            count_where(REFERRAL),
            count_where(TRANSFER),
        ).where(contacts_in(authority_id, start, end))
    ).one()
    # A case transferred through the portal now counts in its new authority's rows, so
    # the sender adds it from its record of the transfer; one imported from a tracker
    # was never anyone else's, and is already counted.
    handed_on = _transfers(authority_id, start, end)
    contacts += handed_on
    transfers = handed_on + imported_transfers
    return [
        f"{first_year}/{str(first_year + 1)[-2:]}",
        contacts,
        consultations,
        referrals,
        transfers,
        _percent(referrals, contacts),
    ]


def _by(
    column: Any,
    vocabulary: type[LabelledEnum],
    authority_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    joined: bool = False,
) -> list[list[Cell]]:
    """Contacts and referrals by one clear column, every value listed (zeros too)."""
    query = select(column, func.count(), count_where(REFERRAL)).select_from(Case)
    if joined:
        query = query.join(Subject, Subject.case_id == Case.id, isouter=True)
    query = query.where(contacts_in(authority_id, start, end)).group_by(column)
    counted = {
        value: (contacts, referrals) for value, contacts, referrals in db.session.execute(query)
    }
    rows: list[list[Cell]] = [[member.label, *counted.get(member, (0, 0))] for member in vocabulary]
    if None in counted:
        rows.append(["Not recorded", *counted[None]])
    return rows


def annual_report(authority: Authority, first_year: int) -> AnnualReport:
    start, end = year_bounds(first_year)
    first_day, next_first_day = date(first_year, 4, 1), date(first_year + 1, 4, 1)
    in_year = contacts_in(authority.id, start, end)
    # The year's own row is the last of the five years': counted once.
    years = [
        _summary(authority.id, year)
        for year in range(first_year - YEARS_COMPARED + 1, first_year + 1)
    ]
    tables = [
        Table(
            "summary",
            "Contacts, consultations, referrals and transfers",
            ["Year", "Contacts", "Consultations", "Referrals", "Transfers", "Conversion rate (%)"],
            [years[-1]],
        ),
        _by_month(authority.id, first_year),
        Table(
            "years",
            f"The last {YEARS_COMPARED} years",
            ["Year", "Contacts", "Consultations", "Referrals", "Transfers", "Conversion rate (%)"],
            years,
        ),
        Table(
            "harm",
            "By category of harm",
            ["Category of harm", "Contacts", "Referrals"],
            _by(Case.harm_category, HarmCategory, authority.id, start, end),
        ),
        Table(
            "sector",
            "By sector of the person the allegation is about",
            ["Sector", "Contacts", "Referrals"],
            _by(Subject.sector, SubjectSector, authority.id, start, end, joined=True),
        ),
        Table(
            "source",
            "By source of the contact",
            ["Source", "Contacts", "Referrals"],
            _by(Case.source_type, SourceType, authority.id, start, end),
        ),
        _outcomes(in_year),
        timeliness_table(authority.id, in_year, start, end),
        delays_table(authority.id, start, end),
        _meetings(authority.id, start, end),
        _counted_rows(
            "regulators",
            "Referrals to the DBS and regulators",
            "Body",
            OnwardReferral.body,
            OnwardBody,
            and_(
                OnwardReferral.authority_id == authority.id,
                OnwardReferral.on >= first_day,
                OnwardReferral.on < next_first_day,
            ),
        ),
        _counted_rows(
            "conclusions",
            "Concluding actions (dismissals, resignations, cessations of use...)",
            "Action",
            CaseConclusion.kind,
            ConcludingAction,
            and_(
                CaseConclusion.authority_id == authority.id,
                CaseConclusion.on >= first_day,
                CaseConclusion.on < next_first_day,
            ),
        ),
    ]
    return AnnualReport(authority, first_year, tables)


def _by_month(authority_id: uuid.UUID, first_year: int) -> Table:
    april = date(first_year, 4, 1)
    bounds = [start_of_uk_day(add_months(april, index)) for index in range(13)]
    counts = db.session.execute(
        select(
            *[
                count_where(Case.received_at >= bounds[i], Case.received_at < bounds[i + 1])
                for i in range(12)
            ]
        ).where(contacts_in(authority_id, bounds[0], bounds[12]))
    ).one()
    return Table(
        "months",
        "Contacts by month",
        ["Month", "Contacts"],
        [[name, count] for name, count in zip(MONTHS, counts, strict=True)],
    )


def _outcomes(in_year: ColumnElement[bool]) -> Table:
    counted = dict(
        db.session.execute(
            select(Case.outcome, func.count()).where(in_year, REFERRAL).group_by(Case.outcome)
        ).all()
    )
    rows: list[list[Cell]] = [[o.label, counted.get(o, 0)] for o in Outcome]
    rows.append(["Ongoing", counted.get(None, 0)])
    return Table("outcomes", "Outcomes of the year's referrals", ["Outcome", "Referrals"], rows)


def timeliness_table(
    authority_id: uuid.UUID, in_year: ColumnElement[bool], start: datetime, end: datetime
) -> Table:
    referrals, one, three, twelve = db.session.execute(
        select(
            func.count(),
            count_where(Case.outcome_months <= 1),
            count_where(Case.outcome_months <= 3),
            count_where(Case.outcome_months <= 12),
        ).where(in_year, REFERRAL)
    ).one()
    meetings_due, meetings_on_time = db.session.execute(
        select(func.count(), count_where(Deadline.met_at <= Deadline.due_at)).where(
            Deadline.authority_id == authority_id,
            Deadline.kind == DeadlineKind.ALLEGATIONS_MEETING,
            Deadline.starts_at >= start,
            Deadline.starts_at < end,
            Deadline.met_at.is_not(None),
        )
    ).one()
    responses_due, responses_on_time = db.session.execute(
        select(func.count(), count_where(Deadline.met_at <= Deadline.due_at)).where(
            Deadline.authority_id == authority_id,
            Deadline.kind == DeadlineKind.RESPONSE,
            Deadline.starts_at >= start,
            Deadline.starts_at < end,
            Deadline.met_at.is_not(None),
        )
    ).one()
    return Table(
        "timeliness",
        "Timeliness",
        ["Measure", "Number", "Of", "Per cent", "Target (%)"],
        [
            ["Referrals resolved within 1 month", one, referrals, _percent(one, referrals), 80],
            [
                "Referrals resolved within 3 months",
                three,
                referrals,
                _percent(three, referrals),
                90,
            ],
            [
                "Referrals resolved within 12 months",
                twelve,
                referrals,
                _percent(twelve, referrals),
                "All but the exceptional",
            ],
            [
                "Allegations meetings within 5 working days",
                meetings_on_time,
                meetings_due,
                _percent(meetings_on_time, meetings_due),
                "",
            ],
            [
                "Responses within 1 working day",
                responses_on_time,
                responses_due,
                _percent(responses_on_time, responses_due),
                "",
            ],
        ],
    )


def delays_table(authority_id: uuid.UUID, start: datetime, end: datetime) -> Table:
    return _counted_rows(
        "delays",
        "Reasons for delay",
        "Reason",
        Deadline.delay_reason,
        DelayReason,
        and_(
            Deadline.authority_id == authority_id,
            Deadline.starts_at >= start,
            Deadline.starts_at < end,
            Deadline.delay_reason.is_not(None),
        ),
    )


def _meetings(authority_id: uuid.UUID, start: datetime, end: datetime) -> Table:
    initial, reconvened = db.session.execute(
        select(
            count_where(Meeting.kind.in_(INITIAL_MEETINGS)),
            count_where(Meeting.kind == MeetingKind.REVIEW),
        ).where(
            Meeting.authority_id == authority_id,
            Meeting.held_at >= start,
            Meeting.held_at < end,
        )
    ).one()
    return Table(
        "meetings",
        "Meetings chaired",
        ["Meetings", "Number"],
        [
            ["Initial (strategy discussions and allegations meetings)", initial],
            ["Reconvened", reconvened],
        ],
    )


def _counted_rows(
    key: str,
    title: str,
    heading: str,
    column: Any,
    vocabulary: type[LabelledEnum],
    where: ColumnElement[bool],
) -> Table:
    counted: dict[Any, int] = dict(
        db.session.execute(select(column, func.count()).where(where).group_by(column)).all()
    )
    rows: list[list[Cell]] = [[member.label, counted.get(member, 0)] for member in vocabulary]
    rows.append(["Total", sum(counted.values())])
    return Table(key, title, [heading, "Number"], rows)


def as_rows(report: AnnualReport) -> Sequence[list[Cell]]:
    """Every table one after another, each under its title: the CSV's rows."""
    rows: list[list[Cell]] = [[f"{report.authority.display_name} LADO annual report {report.name}"]]
    for table in report.tables:
        rows += [[], [table.title], list(table.columns), *table.rows]
    return rows
