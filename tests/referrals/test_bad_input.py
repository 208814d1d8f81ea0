"""Every wrong answer on the referral form gets a GOV.UK error message on the page, and
nothing already typed is lost: not by an error, not by leaving, not by a time-out."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import AuditEvent, AuditKind, WebSession, utcnow
from portal.workdays import uk_date
from tests.client import PortalClient
from tests.factories import sign_in
from tests.referrals import journey
from tests.referrals.conftest import Place

# Answers chosen, not typed: a wrong one is not shown again.
CHOICES = {"sector", "regulator", "has_employer", "harm_category", "police_informed"}
TOMORROW = journey.date_parts(uk_date(utcnow()) + timedelta(days=1))


def _page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _error(response: Any, message: str) -> None:
    """The message is in the error summary and beside its field, and the page says
    "Error:" in its title, as GOV.UK pages do."""
    page = _page(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert page.count(message) >= 2, message
    assert "<title>Error:" in page


@pytest.fixture
def draft(place: Place, dsl: PortalClient) -> str:
    return journey.start_referral(dsl, place.school_id, place.authority_id)


def _answers(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


BAD_ANSWERS = [
    # (page, answers, the message)
    ("about-you", _answers(journey.ABOUT_YOU, name=""), "Enter your full name"),
    ("about-you", _answers(journey.ABOUT_YOU, phone="call me"), "Enter a phone number"),
    ("about-you", _answers(journey.ABOUT_YOU, email="dsl-at-school"), "Enter an email address"),
    ("person", _answers(journey.SUBJECT, full_name=""), "Enter the full name of the person"),
    (
        "person",
        _answers(journey.SUBJECT, date_of_birth=["31", "2", "1984"]),
        "Date of birth must be a real date",
    ),
    (
        "person",
        _answers(journey.SUBJECT, date_of_birth=["14", "", "1984"]),
        "Date of birth must include a month",
    ),
    (
        "person",
        _answers(journey.SUBJECT, date_of_birth=["14", "6", "84"]),
        "Year must include 4 numbers",
    ),
    (
        "person",
        _answers(journey.SUBJECT, date_of_birth=["1", "1", "1899"]),
        "Date of birth must be after 1 January 1900",
    ),
    (
        "person",
        _answers(journey.SUBJECT, date_of_birth=TOMORROW),
        "Date of birth must be today or in the past",
    ),
    ("person", _answers(journey.SUBJECT, has_employer=""), "Select whether they have an employer"),
    ("person", _answers(journey.SUBJECT, employer=""), "Enter the name of their employer"),
    ("person", _answers(journey.SUBJECT, regulator=""), "Select which regulatory body"),
    (
        "person",
        _answers(journey.SUBJECT, regulator="other", regulator_other=""),
        "Enter the name of the regulatory body",
    ),
    (
        "person",
        _answers(journey.SUBJECT, address="x" * 1001),
        "Address must be 1,000 characters or fewer",
    ),
    ("person", _answers(journey.SUBJECT, sector="astronaut"), "Select the sector"),
    (
        "what-happened",
        _answers(journey.INCIDENT, incident_on=TOMORROW),
        "The date it happened must be today or in the past",
    ),
    (
        "what-happened",
        _answers(journey.INCIDENT, became_aware_on=["1", "1", "2020"]),
        "The date you became aware must be the same as or after the date it happened",
    ),
    ("what-happened", _answers(journey.INCIDENT, allegation=""), "Enter what is alleged"),
    (
        "what-happened",
        _answers(journey.INCIDENT, allegation="x" * 10001),
        "What is alleged must be 10,000 characters or fewer",
    ),
    ("what-happened", _answers(journey.INCIDENT, criteria=[]), "Select which of these may apply"),
    (
        "what-happened",
        _answers(journey.INCIDENT, criteria=["harmed_child", "not_sure"]),
        "not both",
    ),
    ("what-happened", _answers(journey.INCIDENT, harm_category=""), "Select the category of harm"),
    ("actions", _answers(journey.ACTIONS, police_informed=""), "Select whether the police"),
    (
        "actions",
        _answers(journey.ACTIONS, crime_reference="x" * 101),
        "Crime reference number must be 100 characters or fewer",
    ),
]


@pytest.mark.parametrize(("page", "answers", "message"), BAD_ANSWERS)
def test_a_wrong_answer_is_explained_and_nothing_typed_is_lost(
    app: Flask, dsl: PortalClient, draft: str, page: str, answers: dict[str, Any], message: str
) -> None:
    response = dsl.submit(f"{draft}/{page}", answers)
    _error(response, message)
    typed = [
        value
        for name, value in answers.items()
        if isinstance(value, str) and value and name not in CHOICES
    ]
    for value in typed:
        assert value in _page(response), value
    # Leaving the page and coming back: the answers as typed, and the section in progress.
    task_list = dsl.get(draft).get_data(as_text=True)
    assert "In progress" in task_list
    again = _page(dsl.get(f"{draft}/{page}"))
    for value in typed:
        assert value in again, value
    # They block sending until the page is saved.
    assert "answers that are not saved yet" in _page(dsl.get(f"{draft}/check"))


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (_answers(journey.CHILD, name=""), "Enter the child's name"),
        (_answers(journey.CHILD, date_of_birth=["", "", ""], age=""), "date of birth or their age"),
        (_answers(journey.CHILD, date_of_birth=["", "", ""], age="18"), "Age must be 17 or under"),
        (_answers(journey.CHILD, date_of_birth=["", "", ""], age="nine"), "whole number"),
        # Found by hypothesis: "²" is a digit to str.isdigit(), not to int().
        (_answers(journey.CHILD, date_of_birth=["", "", ""], age="²"), "whole number"),
        (_answers(journey.CHILD, date_of_birth=["²", "1", "2016"]), "must be a real date"),
        (_answers(journey.CHILD, date_of_birth=["30", "2", "2016"]), "must be a real date"),
        (_answers(journey.CHILD, gender=""), "Select their gender"),
        (_answers(journey.CHILD, words="x" * 5001), "5,000 characters or fewer"),
    ],
)
def test_a_wrong_answer_about_a_child_is_explained_and_kept(
    dsl: PortalClient, draft: str, answers: dict[str, Any], message: str
) -> None:
    response = dsl.submit(f"{draft}/children/new", answers)
    _error(response, message)
    assert journey.CHILD["setting"] in _page(response)
    assert journey.CHILD["setting"] in _page(dsl.get(f"{draft}/children/new"))


def test_a_child_who_was_18_when_it_happened_stops_the_referral(
    dsl: PortalClient, draft: str
) -> None:
    journey.fill_in(dsl, draft)
    journey.save(
        dsl,
        f"{draft}/what-happened",
        _answers(
            journey.INCIDENT,
            incident_on=["1", "9", "2026"],
            became_aware_on=journey.TODAY,
            late_reason="Only told today",
        ),
    )
    journey.add_child(
        dsl, draft, _answers(journey.CHILD, name="Older Child", date_of_birth=["31", "8", "2008"])
    )
    check = dsl.submit(f"{draft}/check", {})
    assert check.status_code == 200
    assert "Child 2 was 18 or over on 1 September 2026" in _page(check)


def test_reporting_late_asks_why(dsl: PortalClient, draft: str) -> None:
    journey.fill_in(dsl, draft)
    long_ago = ["1", "9", "2026"]
    journey.save(
        dsl,
        f"{draft}/what-happened",
        _answers(journey.INCIDENT, incident_on=long_ago, became_aware_on=long_ago),
    )
    check = dsl.submit(f"{draft}/check", {})
    assert "tell us why this is being reported more than 1 working day" in _page(check)
    journey.save(
        dsl,
        f"{draft}/what-happened",
        _answers(
            journey.INCIDENT,
            incident_on=long_ago,
            became_aware_on=long_ago,
            late_reason="Back from leave",
        ),
    )
    assert journey.send(dsl, draft).headers["Location"] == f"{draft}/sent"


def test_sending_an_unfinished_referral_lists_what_is_missing(
    dsl: PortalClient, draft: str
) -> None:
    response = dsl.submit(f"{draft}/check", {})
    page = _page(response)
    assert "Before you can send this, put these right" in page
    for section in ("About you", "The person the allegation is about", "What happened"):
        assert f"{section}: this section is not finished" in page, section


def test_save_and_come_back_later_keeps_even_wrong_answers(dsl: PortalClient, draft: str) -> None:
    answers = _answers(journey.SUBJECT, date_of_birth=["31", "2", "1984"], full_name="")
    response = dsl.submit(f"{draft}/person", {**answers, "action": "later"})
    assert response.headers["Location"] == draft
    page = _page(dsl.get(f"{draft}/person"))
    assert journey.SUBJECT["address"] in page
    assert 'value="31"' in page
    assert "In progress" in dsl.get(draft).get_data(as_text=True)


def test_answers_typed_as_the_session_times_out_are_kept_for_after_sign_in(
    app: Flask, place: Place, dsl: PortalClient, draft: str
) -> None:
    dsl.get(f"{draft}/what-happened")
    with app.app_context():
        db.session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=40)))
        db.session.commit()
    long_answer = "A long account, typed over 40 minutes (timeout-canary)"
    response = dsl.post_form(
        f"{draft}/what-happened", _answers(journey.INCIDENT, allegation=long_answer)
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next={draft}/what-happened"
    sign_in_page = _page(dsl.get(response.headers["Location"]))
    assert "We have saved what you typed" in sign_in_page
    assert long_answer not in sign_in_page
    response = sign_in(dsl, app, place.dsl)
    assert response.headers["Location"] == f"{draft}/what-happened"
    assert long_answer in _page(dsl.get(f"{draft}/what-happened"))
    with app.app_context():
        kept = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.CASE_ANSWERS_KEPT)
        ).all()
        assert [event.detail["why"] for event in kept] == ["timeout"]
        assert kept[0].actor_id == place.dsl.id


def test_a_form_from_another_session_keeps_nothing_after_a_time_out(
    app: Flask, place: Place, dsl: PortalClient, draft: str
) -> None:
    """Only the expired session's own forms are rescued: a cross-site POST is not."""
    dsl.get(f"{draft}/what-happened")
    with app.app_context():
        db.session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=40)))
        db.session.commit()
    forged = dsl.post(
        f"{draft}/what-happened",
        data={**_answers(journey.INCIDENT, allegation="forged"), "csrf_token": "forged-token"},
    )
    assert forged.status_code == 400
    assert "forged" not in _page(forged)
    sign_in(dsl, app, place.dsl)
    assert "forged" not in _page(dsl.get(f"{draft}/what-happened"))


def test_a_time_out_while_half_signed_in_keeps_nothing(
    app: Flask, place: Place, draft: str
) -> None:
    other = app.test_client()
    assert isinstance(other, PortalClient)
    other.submit("/sign-in", {"email": place.dsl.email, "password": place.dsl.password})
    with app.app_context():
        db.session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=40)))
        db.session.commit()
    response = other.post_form(f"{draft}/what-happened", journey.INCIDENT)
    assert response.status_code == 400
