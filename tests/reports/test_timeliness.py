"""The timeliness dashboard over a range of dates: open cases by age, the time-scales
met, what is overdue now, and why cases were late; each chart with its table."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask

from portal.extensions import db
from portal.models import Deadline, DeadlineKind, DelayReason, Role, utcnow
from portal.vocabulary import Outcome
from portal.workdays import uk_date
from tests.factories import make_account, make_authority
from tests.meetings.test_meetings import _text
from tests.referrals.conftest import signed_in_as
from tests.reports.test_annual import Year


def _parts(day: object) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]  # type: ignore[attr-defined]


def test_the_dashboard_counts_the_range_and_whats_open_now(app: Flask) -> None:
    year = Year(app)
    now = utcnow()
    referral = ("start_triage", "accept_referral")
    year.case(now - timedelta(days=10), referral)  # open, under a month
    year.case(now - timedelta(days=40), referral, outcome=Outcome.SUBSTANTIATED, months=1)
    year.case(now - timedelta(days=200), referral)  # open, 3 to 12 months
    old = year.case(now - timedelta(days=800), referral)  # outside the last 12 months
    year.add(
        Deadline(
            id=uuid.uuid4(),
            case_id=old,
            authority_id=year.authority_id,
            kind=DeadlineKind.AGENCY_REVIEW,
            starts_at=now - timedelta(days=40),
            due_at=now - timedelta(days=12),
            delay_reason=DelayReason.POLICE_INVESTIGATION,
        )
    )
    lado = signed_in_as(app, year.lado)
    url = f"/authorities/{year.authority_id}/reports/timeliness"
    page = lado.get(url).get_data(as_text=True)
    assert "Open cases by age" in page
    assert '<svg class="portal-chart" aria-hidden="true"' in page  # a picture of the table
    text = _text(lado.get(url))
    assert "Referrals resolved within 1 month" in text
    assert DelayReason.POLICE_INVESTIGATION.label in text
    with app.app_context():
        from portal.models import Authority
        from portal.reports.dashboard import dashboard

        authority = db.session.get_one(Authority, year.authority_id)
        today = uk_date(now)
        board = {t.key: t for t in dashboard(authority, today - timedelta(days=365), today).tables}
        assert [row[1] for row in board["open"].rows] == [1, 1, 1, 1]  # 10 d, 40 d, 200 d, 800 d
        timely = {row[0]: row[1:] for row in board["timeliness"].rows}
        assert timely["Referrals resolved within 1 month"][:2] == [1, 3]  # the old one is out
        overdue = {row[0]: row[1] for row in board["overdue"].rows}
        assert overdue["Review of the paused case"] == 1
        assert sum(overdue.values()) == 1


def test_a_wrong_range_says_so_and_keeps_the_dates(app: Flask) -> None:
    authority_id = make_authority(app)
    lado = signed_in_as(app, make_account(app, Role.LADO, authority_id=authority_id))
    url = f"/authorities/{authority_id}/reports/timeliness"
    today = uk_date(utcnow())
    for query, message in (
        ({"start": ["", "", ""], "end": _parts(today)}, "Enter the start date"),
        (
            {"start": ["31", "2", "2026"], "end": _parts(today)},
            "The start date must be a real date",
        ),
        (
            {"start": _parts(today), "end": _parts(today - timedelta(days=3))},
            "The end date must be on or after the start date",
        ),
    ):
        page = lado.get(url, query_string=query)
        assert page.status_code == 200
        assert message in page.get_data(as_text=True), message
    partner_authority = make_authority(app, code="OTH")
    other = signed_in_as(app, make_account(app, Role.LADO, authority_id=partner_authority))
    assert other.get(url).status_code == 404
