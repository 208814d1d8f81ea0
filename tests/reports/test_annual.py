"""The annual report counts a reporting year's cases from clear columns, in SQL: a small
year built by hand, with its edges (the last minute of 31 March, the first of 1 April),
a transfer, another authority's cases, and every table checked."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from portal.extensions import db
from portal.models import (
    Case,
    CaseConclusion,
    CaseEvent,
    CaseStatus,
    CaseTransfer,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    OnwardReferral,
    Role,
    Subject,
    utcnow,
)
from portal.reports.annual import annual_report
from portal.vocabulary import (
    ConcludingAction,
    HarmCategory,
    OnwardBody,
    Outcome,
    SourceType,
    SubjectSector,
)
from portal.workdays import UK
from portal.workflow import DECISIONS
from tests.factories import make_account, make_authority, make_organisation
from tests.referrals.conftest import signed_in_as

YEAR = 2025  # 1 April 2025 to 31 March 2026


def _at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UK).astimezone(UTC)


class Year:
    """Cases of one authority, made straight in the tables as the portal leaves them."""

    def __init__(self, app: Flask, code: str = "BRO") -> None:
        self.app = app
        self.authority_id = make_authority(app, code=code)
        self.organisation_id = make_organisation(app, [self.authority_id])
        self.lado = make_account(app, Role.LADO, authority_id=self.authority_id)

    def case(
        self,
        received: datetime,
        moves: tuple[str, ...] = (),
        *,
        harm: HarmCategory = HarmCategory.PHYSICAL,
        source: SourceType = SourceType.EDUCATION,
        sector: SubjectSector | None = None,
        outcome: Outcome | None = None,
        months: int | None = None,
    ) -> uuid.UUID:
        with self.app.app_context():
            case = Case(
                id=uuid.uuid4(),
                authority_id=self.authority_id,
                organisation_id=self.organisation_id,
                status=CaseStatus.IN_TRIAGE,
                reference=f"BRO-{uuid.uuid4().hex[:8]}",
                created_by_id=self.lado.id,
                received_at=received,
                submitted_at=received,
                harm_category=harm,
                source_type=source,
                outcome=outcome,
                outcome_months=months,
                decision=next((m for m in reversed(moves) if m in DECISIONS), None),
                completed_sections=[],
            )
            db.session.add(case)
            if sector is not None:
                db.session.add(
                    Subject(
                        id=uuid.uuid4(),
                        case_id=case.id,
                        authority_id=self.authority_id,
                        sector=sector,
                    )
                )
            for move in moves:
                db.session.add(
                    CaseEvent(
                        id=uuid.uuid4(),
                        case_id=case.id,
                        authority_id=self.authority_id,
                        transition=move,
                        from_status=CaseStatus.IN_TRIAGE,
                        to_status=CaseStatus.IN_TRIAGE,
                        occurred_at=received,
                        actor_id=self.lado.id,
                        detail={},
                    )
                )
            db.session.commit()
            return case.id

    def add(self, *rows: Any) -> None:
        with self.app.app_context():
            db.session.add_all(rows)
            db.session.commit()


def _tables(app: Flask, authority_id: uuid.UUID, year: int = YEAR) -> dict[str, Any]:
    from portal.models import Authority

    with app.app_context():
        authority = db.session.get_one(Authority, authority_id)
        report = annual_report(authority, year)
        return {t.key: t for t in report.tables}


def _rows(table: Any) -> dict[str, list[Any]]:
    return {row[0]: row[1:] for row in table.rows}


@pytest.fixture
def year(app: Flask) -> Year:
    made = Year(app)
    april = date(YEAR, 4, 1)
    advice = ("start_triage", "give_advice")
    referral = ("start_triage", "accept_referral")
    # The year's edges: the first minute of 1 April and the last of 31 March count; the
    # minute before and after do not.
    made.case(_at(april, 0, 0), advice, source=SourceType.PUBLIC)
    made.case(_at(date(YEAR + 1, 3, 31), 23, 59), advice)
    made.case(_at(date(YEAR, 3, 31), 23, 59), advice)  # the year before
    made.case(_at(date(YEAR + 1, 4, 1), 0, 0), advice)  # the year after
    made.case(_at(date(YEAR, 6, 10)), ("start_triage", "no_further_action"))
    made.case(
        _at(date(YEAR, 5, 2)), referral, harm=HarmCategory.SEXUAL,
        sector=SubjectSector.TEACHING, outcome=Outcome.SUBSTANTIATED, months=1,
    )  # fmt: skip
    made.case(
        _at(date(YEAR, 5, 20)), referral, sector=SubjectSector.TEACHING,
        outcome=Outcome.SUBSTANTIATED, months=2,
    )  # fmt: skip
    made.case(
        _at(date(YEAR, 9, 1)), referral, harm=HarmCategory.EMOTIONAL,
        source=SourceType.POLICE, outcome=Outcome.UNFOUNDED, months=5,
    )  # fmt: skip
    ongoing = made.case(_at(date(YEAR + 1, 1, 15)), referral, harm=HarmCategory.NEGLECT)
    # A case transferred to another authority counts here as a contact and a transfer.
    other = Year(app, code="NEI")
    moved = other.case(_at(date(YEAR, 7, 1)), ("start_triage", "transfer"))
    made.add(
        CaseTransfer(
            id=uuid.uuid4(),
            case_id=moved,
            from_authority_id=made.authority_id,
            to_authority_id=other.authority_id,
            reference="BRO-X",
            received_at=_at(date(YEAR, 7, 1)),
            transferred_at=_at(date(YEAR, 7, 1), 15),
            transferred_by_id=made.lado.id,
        )
    )
    for _ in range(3):  # another authority's cases are never counted
        other.case(_at(date(YEAR, 8, 1)), referral, outcome=Outcome.MALICIOUS, months=1)
    rows: list[Any] = []
    for body, on in (
        (OnwardBody.OFSTED, date(YEAR, 8, 1)),
        (OnwardBody.OFSTED, date(YEAR + 1, 3, 31)),
        (OnwardBody.DBS, date(YEAR, 10, 1)),
        (OnwardBody.DBS, date(YEAR + 1, 4, 1)),  # the next year
    ):
        rows.append(
            OnwardReferral(
                id=uuid.uuid4(), case_id=ongoing, authority_id=made.authority_id, body=body, on=on
            )
        )
    rows.append(
        CaseConclusion(
            id=uuid.uuid4(),
            case_id=ongoing,
            authority_id=made.authority_id,
            kind=ConcludingAction.DISMISSAL,
            on=date(YEAR, 11, 1),
        )
    )
    for kind, held in (
        (MeetingKind.STRATEGY_DISCUSSION, date(YEAR, 5, 3)),
        (MeetingKind.ALLEGATIONS, date(YEAR, 5, 8)),
        (MeetingKind.REVIEW, date(YEAR, 6, 20)),
        (MeetingKind.REVIEW, date(YEAR - 1, 6, 20)),  # held the year before
    ):
        meeting = Meeting(
            id=uuid.uuid4(),
            case_id=ongoing,
            authority_id=made.authority_id,
            kind=kind,
            starts_at=_at(held),
            chair_id=made.lado.id,
            arranged_by_id=made.lado.id,
            held_at=_at(held, 13),
        )
        meeting.place = "Room 1"
        rows.append(meeting)
    for met_late in (False, False, True):
        started = _at(date(YEAR, 5, 2))
        rows.append(
            Deadline(
                id=uuid.uuid4(),
                case_id=ongoing,
                authority_id=made.authority_id,
                kind=DeadlineKind.ALLEGATIONS_MEETING,
                starts_at=started,
                due_at=started + timedelta(days=7),
                met_at=started + timedelta(days=10 if met_late else 3),
            )
        )
    made.add(*rows)
    return made


def test_the_years_figures(app: Flask, year: Year) -> None:
    tables = _tables(app, year.authority_id)
    # 7 contacts received in the year (4 referrals, 2 consultations) and 1 transferred out.
    assert tables["summary"].rows == [["2025/26", 8, 2, 4, 1, 50.0]]
    months = _rows(tables["months"])
    assert months["April"] == [1]
    assert months["May"] == [2]
    assert months["March"] == [1]
    assert sum(v[0] for v in months.values()) == 7  # the transfer is not in the months
    years = tables["years"].rows
    assert [row[0] for row in years] == ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]
    assert years[3][1] == 1  # the last minute of 31 March 2025
    outcomes = _rows(tables["outcomes"])
    assert outcomes["Substantiated"] == [2]
    assert outcomes["Unfounded"] == [1]
    assert outcomes["Malicious"] == [0]  # the other authority's
    assert outcomes["Ongoing"] == [1]
    harm = _rows(tables["harm"])
    assert harm[HarmCategory.SEXUAL.label] == [1, 1]
    assert harm[HarmCategory.PHYSICAL.label] == [4, 1]
    sector = _rows(tables["sector"])
    assert sector[SubjectSector.TEACHING.label] == [2, 2]
    source = _rows(tables["source"])
    assert source[SourceType.POLICE.label] == [1, 1]
    assert source[SourceType.PUBLIC.label] == [1, 0]
    timeliness = _rows(tables["timeliness"])
    assert timeliness["Referrals resolved within 1 month"][:3] == [1, 4, 25.0]
    assert timeliness["Referrals resolved within 3 months"][:3] == [2, 4, 50.0]
    assert timeliness["Referrals resolved within 12 months"][:3] == [3, 4, 75.0]
    assert timeliness["Allegations meetings within 5 working days"][:3] == [2, 3, 66.7]
    regulators = _rows(tables["regulators"])
    assert regulators[OnwardBody.OFSTED.label] == [2]
    assert regulators[OnwardBody.DBS.label] == [1]
    assert regulators["Total"] == [3]
    assert _rows(tables["conclusions"])[ConcludingAction.DISMISSAL.label] == [1]
    meetings = tables["meetings"].rows
    assert [row[1] for row in meetings] == [2, 1]


def test_the_report_downloads_as_csv_and_xlsx_and_prints(app: Flask, year: Year) -> None:
    lado = signed_in_as(app, year.lado)
    base = f"/authorities/{year.authority_id}/reports/annual"
    page = lado.get(f"{base}?year={YEAR}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "LADO annual report 2025/26" in text
    assert "Referrals to the DBS and regulators" in text
    rows = list(csv.reader(io.StringIO(lado.get(f"{base}.csv?year={YEAR}").get_data(as_text=True))))
    assert ["2025/26", "8", "2", "4", "1", "50.0"] in rows
    book = load_workbook(io.BytesIO(lado.get(f"{base}.xlsx?year={YEAR}").get_data()))
    assert "summary" in book.sheetnames
    assert [c.value for c in book["summary"][4]] == ["2025/26", 8, 2, 4, 1, 50.0]
    for wrong in ("next", "1999", str(utcnow().year + 2)):
        assert lado.get(f"{base}?year={wrong}").status_code == 404
    # Another authority's LADO, and a partner: not theirs.
    other = signed_in_as(
        app, make_account(app, Role.LADO, authority_id=make_authority(app, code="OTH"))
    )
    assert other.get(base).status_code == 404
    partner = signed_in_as(
        app, make_account(app, Role.PARTNER_MEMBER, organisation_id=year.organisation_id)
    )
    assert partner.get(base).status_code == 404


def test_a_cell_that_looks_like_a_formula_is_written_as_text() -> None:
    from portal.reports.export import safe

    for dangerous in ("=1+1", "+44", "-2", "@SUM(A1)"):
        assert safe(dangerous) == "'" + dangerous
    assert safe("Physical abuse") == "Physical abuse"
    assert safe(12) == 12
