"""Recording how a referral ends, through the LADO's move pages: the outcome (its
definitions beside the choice, and so the retention date), then the concluding actions
and any referral of the person to the DBS or a regulator."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import Case, CaseConclusion, CaseStatus, OnwardReferral, utcnow
from portal.vocabulary import ConcludingAction, OnwardBody, Outcome
from portal.workdays import uk_date
from tests.casework.test_queue_and_case import _move
from tests.client import PortalClient
from tests.meetings.test_meetings import _held_yesterday, _text
from tests.meetings.test_meetings import lado as lado
from tests.referrals.conftest import Place

TODAY = uk_date(utcnow())


def _parts(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _at_meetings(app: Flask, place: Place, dsl: PortalClient, lado: PortalClient) -> str:
    meeting_url = _held_yesterday(app, place, dsl, lado)
    recorded = lado.submit(
        f"{meeting_url}/record", {"attendance": "LADO, DSL", "decisions": "Outcome next"}
    )
    assert recorded.status_code == 302, _text(recorded)
    return meeting_url.split("/meetings/")[0]


def _case(app: Flask, case_url: str) -> Case:
    with app.app_context():
        case = db.session.get_one(Case, uuid.UUID(case_url.rsplit("/", 1)[1]))
        db.session.expunge(case)
        return case


LATE = {"delay_reason": "other", "delay_detail": "Tests"}


def test_the_outcome_is_recorded_with_its_retention_date(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _at_meetings(app, place, dsl, lado)
    page = _text(lado.get(f"{case_url}/record_outcome"))
    assert "insufficient evidence either to prove or disprove" in page  # the definitions
    assert "a deliberate act to deceive" in page
    missing: Any = _move(lado, f"{case_url}/record_outcome", {"rationale": "Kept reasons", **LATE})
    assert missing.status_code == 200
    assert "Select the outcome" in _text(missing)
    assert "Kept reasons" in _text(missing)
    done: Any = _move(
        lado,
        f"{case_url}/record_outcome",
        {"outcome": "malicious", "rationale": "Disproved, and made up", **LATE},
    )
    assert done.status_code == 302, _text(done)
    case = _case(app, case_url)
    assert case.status == CaseStatus.OUTCOME
    assert case.outcome == Outcome.MALICIOUS
    assert case.outcome_on == TODAY
    # Born 14 June 1984 (the journey's subject): State Pension age 68, later than 10
    # years from the allegation.
    assert case.retained_until == date(2052, 6, 14)
    assert case.remove_from_personnel_records
    page = _text(lado.get(case_url))
    assert "Malicious, recorded" in page
    assert "14 June 2052" in page
    assert "remove the allegation from the subject's personnel records" in page


def test_concluding_actions_and_referrals_on_are_recorded_with_their_dates(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _at_meetings(app, place, dsl, lado)
    _move(
        lado,
        f"{case_url}/record_outcome",
        {"outcome": "substantiated", "rationale": "Admitted", **LATE},
    )
    url = f"{case_url}/record_concluding_actions"
    when = TODAY - timedelta(days=1)
    for data, message in (
        ({"actions_on": _parts(when)}, "Select the concluding actions, or no further action"),
        ({"actions": ["dismissal"], "actions_on": ["", "", ""]}, "Enter the date the concluding"),
        (
            {"actions": ["dismissal"], "actions_on": _parts(when), "referred_to": ["dbs"]},
            "Enter the date of the referral",
        ),
        (
            {
                "actions": ["dismissal"],
                "actions_on": _parts(when),
                "referred_to": ["other"],
                "referred_on": _parts(when),
            },
            "Enter which other body",
        ),
        (
            {"actions": ["nonsense"], "actions_on": _parts(when)},
            "Select the concluding actions",
        ),
    ):
        wrong: Any = _move(lado, url, {**data, **LATE})
        assert wrong.status_code == 200
        assert message in _text(wrong), message
    done: Any = _move(
        lado,
        url,
        {
            "actions": ["dismissal", "training"],
            "actions_on": _parts(when),
            "referred_to": ["dbs", "other"],
            "referred_on": _parts(TODAY),
            "referred_other": "The Diocese safeguarding team",
            **LATE,
        },
    )
    assert done.status_code == 302, _text(done)
    with app.app_context():
        conclusions = db.session.scalars(select(CaseConclusion)).all()
        assert {(c.kind, c.on) for c in conclusions} == {
            (ConcludingAction.DISMISSAL, when),
            (ConcludingAction.TRAINING, when),
        }
        referrals = db.session.scalars(select(OnwardReferral)).all()
        assert {(r.body, r.on) for r in referrals} == {
            (OnwardBody.DBS, TODAY),
            (OnwardBody.OTHER, TODAY),
        }
        assert {r.other_body for r in referrals} == {None, "The Diocese safeguarding team"}
    assert _case(app, case_url).status == CaseStatus.CONCLUDING_ACTIONS
    page = _text(lado.get(case_url))
    assert "Dismissal" in page
    assert "The Diocese safeguarding team" in page


def _concluded(app: Flask, place: Place, dsl: PortalClient, lado: PortalClient) -> str:
    case_url = _at_meetings(app, place, dsl, lado)
    _move(
        lado,
        f"{case_url}/record_outcome",
        {"outcome": "unfounded", "rationale": "No basis", **LATE},
    )
    done: Any = _move(
        lado,
        f"{case_url}/record_concluding_actions",
        {"actions": ["no_further_action"], "actions_on": _parts(TODAY), **LATE},
    )
    assert done.status_code == 302, _text(done)
    return case_url


def test_the_closure_letter_says_the_outcome_retention_privacy_and_access(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _at_meetings(app, place, dsl, lado)
    assert lado.get(f"{case_url}/closure-letter").status_code == 404  # no outcome yet
    case_url = _concluded(app, place, dsl, lado)
    page = _text(lado.get(f"{case_url}/closure-letter"))
    assert "Dear Morgan Subject-Canary," in page
    assert "Unfounded. There is no evidence or proper basis" in page
    assert "until you reach State Pension age, or for 10 years" in page
    assert "privacy notice" in page
    assert "subject access request" in page
    assert "Alex Child-Canary" not in page  # nothing of the children
    pdf = lado.get(f"{case_url}/closure-letter.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF-")
    assert dsl.get(f"{case_url}/closure-letter").status_code == 404  # the team's alone


def test_a_name_beyond_latin_1_prints_in_the_pdf(app: Flask) -> None:
    from portal.closure import Letter, as_pdf

    letter = Letter(
        reference="BRO-2026-00001",
        dated=TODAY,
        to="Łukasz Żółć",
        paragraphs=[(None, "Şule and Zoë: every letter of a name prints.")],
        signed="Lucy Lado",
        authority="Brookshire Council",
    )
    document = as_pdf(letter)
    assert document.startswith(b"%PDF-")
    assert b"DejaVu" in document  # a font with every letter (make test installs it)


def test_closing_puts_the_letter_with_a_subjects_updates(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, mailbox: Any
) -> None:
    from tests.updates.test_subjects import _invite, _subject_signed_up

    case_url = _concluded(app, place, dsl, lado)
    _invite(lado, case_url)
    subject = _subject_signed_up(app, mailbox)
    closed: Any = _move(lado, f"{case_url}/close", {**LATE})
    assert closed.status_code == 302, _text(closed)
    page = _text(subject.get(f"/your-cases/{case_url.rsplit('/', 1)[1]}"))
    assert "Unfounded. There is no evidence or proper basis" in page
    assert "Alex Child-Canary" not in page
