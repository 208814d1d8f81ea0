"""A subject with no employer: the LADO invites them, they set up an account with a
password and an authenticator app, and read only the updates published to them on
their own case. Every other page of the portal is not there for them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pyotp
from flask import Flask
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import (
    Case,
    Deadline,
    DeadlineKind,
    Invitation,
    OutboxMessage,
    SubjectLink,
    utcnow,
)
from portal.workdays import uk_date
from tests.auth.test_invitations import LINK, accept, secret_on_page
from tests.client import PortalClient
from tests.conftest import Mailbox
from tests.meetings.conftest import Agencies
from tests.meetings.test_meetings import _arrange, _parts, _referral, _text
from tests.meetings.test_meetings import lado as lado
from tests.referrals.conftest import Place
from tests.referrals.journey import CHILD, SUBJECT
from tests.updates.test_updates import _case, _publish, _write

SUBJECT_EMAIL = "morgan.subject@home.example"


def _invite(lado: PortalClient, case_url: str, email: str = SUBJECT_EMAIL) -> object:
    return lado.submit(
        f"{case_url}/subject-account", {"full_name": SUBJECT["full_name"], "email": email}
    )


def _invitation(mailbox: Mailbox) -> dict[str, str]:
    return [m for m in mailbox.all() if m["template"] == "subject_invitation"][-1]


def _subject_signed_up(app: Flask, mailbox: Mailbox) -> PortalClient:
    match = LINK.search(_invitation(mailbox)["body"])
    assert match
    browser = accept(app, match.group(1))
    secret = secret_on_page(browser.get("/sign-in/set-up-authenticator").get_data(as_text=True))
    done = browser.submit("/sign-in/set-up-authenticator", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    return browser


def test_a_subject_reads_only_the_updates_published_to_them(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    agencies: Agencies,
    mailbox: Mailbox,
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    other_case_url = _case(app, place, dsl, lado, agencies)
    form = _text(lado.get(f"{case_url}/subject-account"))
    assert SUBJECT["full_name"] in form  # the name from the referral, to check
    invited = _invite(lado, case_url)
    assert invited.status_code == 302, _text(invited)  # type: ignore[attr-defined]
    email = _invitation(mailbox)
    assert email["to"] == SUBJECT_EMAIL
    reference = case_url  # nothing of the case travels in the email
    with app.app_context():
        case = db.session.get_one(Case, uuid.UUID(case_url.rsplit("/", 1)[1]))
        reference = case.reference or ""
    for secret in (reference, CHILD["name"], "Grabbed", SUBJECT["address"]):
        assert secret not in email["body"]
        assert secret not in email["subject"]

    # An update for the subject, and one for the police only.
    _publish(lado, _write(lado, case_url, ["subject"]).headers["Location"])  # type: ignore[attr-defined]
    _publish(
        lado,
        _write(lado, case_url, ["police"], text="For the police: interview on Friday").headers[  # type: ignore[attr-defined]
            "Location"
        ],
    )
    looking = app.test_client()
    link = LINK.search(_invitation(mailbox)["body"])
    assert link
    looking.get(link.group(1))
    assert "has invited you to read the updates they publish for you" in _text(
        looking.get("/invitation")
    )
    subject = _subject_signed_up(app, mailbox)
    home = subject.get("/")
    assert home.status_code == 302
    assert home.headers["Location"] == "/your-cases"
    cases = _text(subject.get("/your-cases"))
    assert reference in cases
    case_id = case_url.rsplit("/", 1)[1]
    page = _text(subject.get(f"/your-cases/{case_id}"))
    assert "will interview Mr Subject" in page
    assert "For the police" not in page
    assert CHILD["name"] not in page
    assert "Alex" not in page
    assert "privacy notice" in page
    # Another case, any page of the portal beyond their own: not there.
    other_id = other_case_url.rsplit("/", 1)[1]
    assert subject.get(f"/your-cases/{other_id}").status_code == 404
    assert subject.get(f"/your-cases/{uuid.uuid4()}").status_code == 404
    for elsewhere in (
        case_url,
        f"{case_url}/updates/new",
        f"/authorities/{place.authority_id}/queue",
        f"/organisations/{place.school_id}/referrals",
        "/referrals",
        "/administration",
    ):
        assert subject.get(elsewhere).status_code == 404, elsewhere
    assert subject.get("/account").status_code == 200  # their own account
    # Staff and partners do not have a subject's pages.
    assert lado.get("/your-cases").status_code == 404
    assert dsl.get(f"/your-cases/{case_id}").status_code == 404
    # The LADO ends their access: the case is gone from them, and they cannot sign in.
    with app.app_context():
        link_id = db.session.scalars(select(SubjectLink.id)).one()
    assert lado.post_form(f"{case_url}/subject-account/{link_id}/end").status_code == 302
    ended = subject.get(f"/your-cases/{case_id}")
    assert ended.status_code == 302  # signed out: an account with no access cannot stay
    assert ended.headers["Location"].startswith("/sign-in")


def test_inviting_a_subject_with_a_mistake_says_so_and_keeps_the_answers(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    agencies: Agencies,
    mailbox: Mailbox,
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    for data, message in (
        ({"full_name": "Kept Name", "email": ""}, "Enter an email address"),
        ({"full_name": "Kept Name", "email": "nonsense"}, "in the correct format"),
        ({"full_name": "", "email": "kept@home.example"}, "Enter"),
        (  # a partner's address: a subject's account must be theirs alone
            {"full_name": "Kept Name", "email": place.dsl.email},
            "already used by an account of an organisation or a council",
        ),
    ):
        response = lado.submit(f"{case_url}/subject-account", data)
        assert response.status_code == 200
        page = _text(response)
        assert message in page, message
        for typed in data.values():
            assert typed in page
    with app.app_context():
        assert db.session.scalars(select(Invitation)).all() == []
    # Invited again: only the newest link works; once linked, not again.
    _invite(lado, case_url)
    first = _invitation(mailbox)["body"]
    _invite(lado, case_url)
    first_link = LINK.search(first)
    assert first_link
    assert app.test_client().get(first_link.group(1)).status_code == 404
    _subject_signed_up(app, mailbox)
    again = _invite(lado, case_url)
    assert "They can already read this case's updates" in _text(again)


def test_an_expired_subject_invitation_says_so(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    agencies: Agencies,
    mailbox: Mailbox,
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    _invite(lado, case_url)
    with app.app_context():
        db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    match = LINK.search(_invitation(mailbox)["body"])
    assert match
    page = app.test_client().get(match.group(1))
    assert page.status_code == 404
    assert "expired" in _text(page).lower()
    with app.app_context():
        assert db.session.scalars(select(SubjectLink)).all() == []


def test_after_a_meeting_the_subject_is_updated_within_48_hours(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    agencies: Agencies,
    mailbox: Mailbox,
) -> None:
    case_url = _referral(app, place, dsl, lado, received_days_ago=2)
    _invite(lado, case_url)
    _subject_signed_up(app, mailbox)
    meeting = _arrange(
        lado,
        case_url,
        place,
        date=_parts(uk_date(utcnow()) - timedelta(days=1)),
        date_reason="Recorded the day after",
        delay_reason="meeting_availability",
    )
    assert meeting.status_code == 302, _text(meeting)
    meeting_url = meeting.headers["Location"]
    lado.submit(f"{meeting_url}/record", {"attendance": "LADO", "decisions": "Wait"})
    with app.app_context():
        clock = db.session.scalars(
            select(Deadline).where(Deadline.kind == DeadlineKind.SUBJECT_UPDATE)
        ).one()
        assert clock.met_at is None
        assert clock.due_at - clock.starts_at == timedelta(hours=48)
    assert "Update the subject" in _text(lado.get(case_url))
    _publish(lado, _write(lado, case_url, ["referrer"]).headers["Location"])
    with app.app_context():
        assert (
            db.session.scalars(
                select(Deadline.met_at).where(Deadline.kind == DeadlineKind.SUBJECT_UPDATE)
            ).one()
            is None
        )
    _publish(lado, _write(lado, case_url, ["subject"]).headers["Location"])
    with app.app_context():
        assert (
            db.session.scalars(
                select(Deadline.met_at).where(Deadline.kind == DeadlineKind.SUBJECT_UPDATE)
            ).one()
            is not None
        )
        told = [
            m.template
            for m in db.session.scalars(select(OutboxMessage))
            if m.recipient == SUBJECT_EMAIL
        ]
    # Invited, then told once of the update meant for them, not of the other one.
    assert sorted(told) == ["subject_invitation", "update_published"]
