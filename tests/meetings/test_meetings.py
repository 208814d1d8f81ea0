"""A referral through to its allegations meeting: the LADO arranges it, asks the police,
children's social care and the employer for what they know, each agency's own users
answer, and the LADO reads the answers side by side. Through the test client, with the
real database and encryption."""

from __future__ import annotations

import html
import io
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.formatting import long_date
from portal.models import (
    Case,
    CaseStatus,
    ChecklistQuestion,
    Deadline,
    DeadlineKind,
    DelayReason,
    InformationRequest,
    Meeting,
    MeetingAction,
    Membership,
    OutboxMessage,
    Role,
    utcnow,
)
from portal.workdays import Timescale, Unit, add_working_days, uk_date
from tests.casework.test_queue_and_case import DECISION, _move, _sent
from tests.client import PortalClient
from tests.factories import make_account, make_authority, make_organisation, step_up
from tests.meetings.conftest import Agencies
from tests.referrals.conftest import Place, signed_in_as
from tests.referrals.journey import PDF, SUBJECT

PLACE_CANARY = "Room 4, Civic Centre, Canaryton"


def _parts(day: Any) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


MEETING_DAY = add_working_days(uk_date(utcnow()), 3)


@pytest.fixture
def lado(app: Flask, place: Place) -> PortalClient:
    return signed_in_as(app, place.lado)


def _referral(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, received_days_ago: int = 0
) -> str:
    """A referral the LADO has accepted; received some days ago, for meetings held since."""
    case_url = _sent(app, place, dsl)
    if received_days_ago:
        with app.app_context():
            case = db.session.get_one(Case, uuid.UUID(case_url.rsplit("/", 1)[1]))
            assert case.received_at
            case.received_at -= timedelta(days=received_days_ago)
            db.session.commit()
    assert _move(lado, f"{case_url}/start_triage", {}).status_code == 302  # type: ignore[attr-defined]
    accepted: Any = _move(
        lado,
        f"{case_url}/accept_referral",
        {**DECISION, "rationale": "Harm to a child: the threshold is met"},
    )
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    return case_url


def _arrange(lado: PortalClient, case_url: str, people: Place, /, **changes: Any) -> Any:
    data = {
        "kind": "allegations",
        "date": _parts(MEETING_DAY),
        "time": "10:30am",
        "minutes_long": "90",
        "place": PLACE_CANARY,
        "chair": str(people.lado.id),
        "organisations": [str(people.school_id)],
        **changes,
    }
    return lado.submit(f"{case_url}/meetings/new", {k: v for k, v in data.items() if v is not None})


def _meeting_url(lado: PortalClient, case_url: str, place: Place) -> str:
    response = _arrange(lado, case_url, place)
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def _ask(lado: PortalClient, meeting_url: str, organisation_id: uuid.UUID, agency: str) -> Any:
    return lado.submit(
        f"{meeting_url}/requests/new", {"organisation": str(organisation_id), "agency": agency}
    )


def _request_id(app: Flask, organisation_id: uuid.UUID) -> uuid.UUID:
    with app.app_context():
        return db.session.scalars(
            select(InformationRequest.id).where(
                InformationRequest.organisation_id == organisation_id
            )
        ).one()


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_meeting_its_three_checklists_and_the_answers_side_by_side(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    page = _text(lado.get(meeting_url))
    assert "ASV meeting" in page  # the authority's name for its allegations meeting
    assert PLACE_CANARY in page
    assert "10:30am" in page
    assert "ASV meeting" in _text(lado.get(case_url))  # listed on the case page

    for organisation_id, agency in (
        (agencies.police_id, "police"),
        (agencies.social_care_id, "childrens_services"),
        (place.school_id, "employer"),
    ):
        asked = _ask(lado, meeting_url, organisation_id, agency)
        assert asked.status_code == 302, _text(asked)
    page = _text(lado.get(meeting_url))
    assert page.count("Outstanding") == 3
    assert "Not sent yet" in page

    # The police officer's own list and checklist: the reference and the meeting only.
    police = signed_in_as(app, agencies.officer)
    requests_url = f"/organisations/{agencies.police_id}/requests"
    listed = _text(police.get(requests_url))
    reference = re.search(r"BRO-\d{4}-\d{5}", listed)
    assert reference
    request_url = f"{requests_url}/{_request_id(app, agencies.police_id)}"
    form = _text(police.get(request_url))
    assert "PNC check" in form
    assert "Anything else that helps the risk analysis" in form
    assert "Do not ask children or staff" not in form  # the employer's guidance only
    for secret in (SUBJECT["full_name"], PLACE_CANARY, "Harm to a child"):
        assert secret not in form
        assert secret not in listed

    saved = police.submit(request_url, {"pnc": "Known: a 2019 caution", "save": "Save as draft"})
    assert saved.status_code == 302
    assert "Known: a 2019 caution" in _text(police.get(request_url))  # the draft comes back
    assert "Known: a 2019 caution" not in _text(lado.get(meeting_url))  # not sent yet

    sent = police.submit(
        request_url,
        {"pnc": "Known: a 2019 caution", "crime_number": "CR/123/26", "send": "Send"},
    )
    assert sent.status_code == 302
    after = _text(police.get(request_url))
    assert "Your answers have been sent to the LADO" in after
    assert "Known: a 2019 caution" in after
    assert "<textarea" not in after  # sent: read only

    employer = dsl.submit(
        f"/organisations/{place.school_id}/requests/{_request_id(app, place.school_id)}",
        {"conduct": "No concerns before this", "send": "Send"},
    )
    assert employer.status_code == 302

    page = _text(lado.get(meeting_url))
    assert "Known: a 2019 caution" in page
    assert "CR/123/26" in page
    assert "No concerns before this" in page
    assert page.count("Outstanding") == 1  # children's social care has not answered
    pack = _text(lado.get(f"{meeting_url}/pack"))
    assert "Pre-meeting pack" in pack
    assert "Known: a 2019 caution" in pack
    assert PLACE_CANARY in pack


def test_invitees_and_agencies_are_told_to_sign_in_and_nothing_more(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    _ask(lado, meeting_url, agencies.police_id, "police")
    with app.app_context():
        messages = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.template.in_(("meeting_invitation", "information_request"))
            )
        ).all()
        told = {(m.template, m.recipient) for m in messages}
        bodies = [m.subject + m.body for m in messages]
    assert ("meeting_invitation", place.dsl.email) in told  # the school was invited
    assert ("meeting_invitation", place.colleague.email) in told
    assert ("meeting_invitation", place.lado.email) in told  # the chair
    assert ("information_request", agencies.officer.email) in told
    for body in bodies:
        assert "sign in" in body.lower()
        assert PLACE_CANARY not in body
        assert SUBJECT["full_name"] not in body


def test_the_calendar_invitation_carries_the_reference_and_time_only(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    response = lado.get(f"{meeting_url}/invitation.ics")
    assert response.mimetype == "text/calendar"
    ics = response.get_data(as_text=True).replace("\r\n ", "")
    assert "BEGIN:VEVENT" in ics
    assert re.search(r"SUMMARY:LADO meeting: BRO-\d{4}-\d{5}", ics)
    assert "DTSTART" in ics
    assert "Canaryton" not in ics
    assert SUBJECT["full_name"] not in ics


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": None}, "Select the kind of meeting"),
        ({"date": ["", "", ""]}, "Enter the date of the meeting"),
        ({"date": ["31", "2", "2027"]}, "The date must be a real date"),
        ({"time": ""}, "Enter the start time"),
        ({"time": "25:00"}, "Enter the start time like 9:30am or 14:00"),
        ({"time": "9"}, "Enter the start time like 9:30am or 14:00"),
        ({"place": ""}, "Enter where the meeting is held"),
        ({"place": "x" * 501}, "Where must be 500 characters or fewer"),
        ({"chair": ""}, "Select who chairs the meeting"),
        ({"chair": str(uuid.uuid4())}, "Select who chairs the meeting"),
        (
            {"date": ["1", "1", "2020"], "date_reason": "Before the referral"},
            "when the contact was received",
        ),
    ],
)
def test_a_meeting_form_with_a_mistake_says_so_and_keeps_the_answers(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    changes: dict[str, Any],
    message: str,
) -> None:
    case_url = _referral(app, place, dsl, lado)
    response = _arrange(lado, case_url, place, **changes)
    assert response.status_code == 200
    page = _text(response)
    assert "There is a problem" in page
    assert message in page
    if "place" not in changes:
        assert PLACE_CANARY in page  # what was typed is kept
    with app.app_context():
        assert db.session.scalars(select(Meeting)).first() is None


@pytest.mark.parametrize(
    "day",
    [
        uk_date(utcnow()) - timedelta(days=1),  # in the past
        next(  # a Saturday to come
            uk_date(utcnow()) + timedelta(days=n)
            for n in range(1, 8)
            if (uk_date(utcnow()) + timedelta(days=n)).weekday() == 5
        ),
    ],
)
def test_a_meeting_in_the_past_or_not_on_a_working_day_needs_a_reason(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, day: Any
) -> None:
    in_the_past = day < uk_date(utcnow())
    case_url = _referral(app, place, dsl, lado, received_days_ago=2 if in_the_past else 0)
    response = _arrange(lado, case_url, place, date=_parts(day))
    assert response.status_code == 200
    page = _text(response)
    assert "Say why the meeting is on that date, or choose another date" in page
    assert PLACE_CANARY in page
    allowed = _arrange(
        lado,
        case_url,
        place,
        date=_parts(day),
        date_reason="Police availability",
        # On some days of the week the Saturday to come is past the 5 working days too.
        delay_reason=DelayReason.MEETING_AVAILABILITY.value,
    )
    assert allowed.status_code == 302, _text(allowed)
    assert "Police availability" in _text(lado.get(allowed.headers["Location"]))


def test_date_questions_are_named_in_their_legend(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    """A template that styles a date's legend must not lose the legend's words."""
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    for url, legend in (
        (f"{case_url}/meetings/new", "Date"),
        (f"{meeting_url}/requests/new", "Due by the end of"),
    ):
        page = _text(lado.get(url))
        assert re.search(
            rf'<legend class="govuk-fieldset__legend[^"]*">\s*{legend}\s*</legend>', page
        )


def test_an_organisation_with_no_one_to_answer_is_named(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    empty_id = make_organisation(app, [place.authority_id], name="Empty Trust")
    response = _ask(lado, meeting_url, empty_id, "employer")
    assert response.status_code == 200
    assert "Empty Trust has no one who can sign in to answer" in _text(response)
    assert "Ask them to add someone" in _text(response)  # a LADO cannot add partners
    assert _ask(lado, meeting_url, place.school_id, "employer").status_code == 302
    again = _ask(lado, meeting_url, place.school_id, "employer")
    assert "has already been asked for this meeting" in _text(again)
    assert "Ask them to add someone" not in _text(again)
    for missing, message in (
        ({"organisation": ""}, "Select the organisation to ask"),
        ({"agency": ""}, "Select the checklist"),
    ):
        data = {"organisation": str(place.school_id), "agency": "employer", **missing}
        assert message in _text(lado.submit(f"{meeting_url}/requests/new", data))


def test_the_lado_has_someone_added_to_an_organisation_that_cannot_answer(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    """Its administrators (its own, and the authority's) are asked by e-mail, which
    names the organisation and not the case; an administrator gets a link instead."""
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    empty_id = make_organisation(app, [place.authority_id], name="Empty Trust")
    trust_admin = make_account(app, Role.ORGANISATION_ADMIN, organisation_id=empty_id)
    council_admin = make_account(app, Role.AUTHORITY_ADMIN, authority_id=place.authority_id)
    asked = lado.post_form(f"{meeting_url}/organisations/{empty_id}/someone-needed")
    assert asked.status_code == 302
    assert "administrators have been asked to add someone" in _text(lado.get(meeting_url))
    with app.app_context():
        case = db.session.get_one(Case, uuid.UUID(case_url.rsplit("/", 1)[1]))
        messages = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "someone_needed")
        ).all()
        assert {m.recipient for m in messages} == {trust_admin.email, council_admin.email}
        for message in messages:
            assert "Empty Trust" in message.subject
            assert case.reference
            assert case.reference not in message.subject + message.body
    # Not an organisation the authority works with: 404.
    elsewhere = make_organisation(app, [make_authority(app, code="ELS")])
    assert (
        lado.post_form(f"{meeting_url}/organisations/{elsewhere}/someone-needed").status_code == 404
    )
    # Someone who may add people is sent to do it.
    with app.app_context():
        db.session.add(
            Membership(
                user_id=place.lado.id, role=Role.AUTHORITY_ADMIN, authority_id=place.authority_id
            )
        )
        db.session.commit()
    offer = _text(_ask(lado, meeting_url, empty_id, "employer"))
    assert f'href="/organisations/{empty_id}/members/invite"' in offer
    assert "Ask them to add someone" not in offer


def test_one_of_an_agencys_people_invited_by_name_sees_the_meeting_and_their_actions(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    meeting_url = _held_yesterday(app, place, dsl, lado)
    meeting_id = meeting_url.rsplit("/", 1)[1]
    as_police = f"/organisations/{agencies.police_id}/meetings/{meeting_id}"
    officer = signed_in_as(app, agencies.officer)
    colleague_account = make_account(app, Role.PARTNER_MEMBER, organisation_id=agencies.police_id)
    colleague = signed_in_as(app, colleague_account)
    assert officer.get(as_police).status_code == 404

    invite = f"{meeting_url}/invitees/new"
    police = str(agencies.police_id)
    for data, message in (
        ({"organisation": police, "email": ""}, "Enter an email address"),
        ({"organisation": police, "email": "not an address"}, "in the correct format"),
        ({"organisation": "", "email": agencies.officer.email}, "Select their organisation"),
        (
            {"organisation": police, "email": "nobody@test.example"},
            "No one with that email address can sign in for Brookshire Police",
        ),
        (  # a real account, but at another organisation: the same words
            {"organisation": police, "email": place.dsl.email},
            "No one with that email address can sign in for Brookshire Police",
        ),
        (
            {"organisation": str(place.school_id), "email": place.dsl.email},
            "is already invited",  # the whole school is
        ),
    ):
        wrong = lado.submit(invite, data)
        assert wrong.status_code == 200
        page = _text(wrong)
        assert message in page, message
        if data["email"]:
            assert data["email"] in page  # kept
    invited = lado.submit(invite, {"organisation": police, "email": agencies.officer.email})
    assert invited.status_code == 302, _text(invited)
    again = lado.submit(invite, {"organisation": police, "email": agencies.officer.email})
    assert "is already invited" in _text(again)
    page = _text(lado.get(meeting_url))
    assert f"{agencies.officer.full_name}, Brookshire Police" in page

    assert officer.get(as_police).status_code == 200
    assert colleague.get(as_police).status_code == 404  # the person, not the force
    assert str(meeting_id) not in _text(colleague.get(f"/organisations/{police}/requests"))
    assert str(meeting_id) in _text(officer.get(f"/organisations/{police}/requests"))

    recorded = lado.submit(
        f"{meeting_url}/record", {"attendance": "LADO, DSL, police", "decisions": "Wait"}
    )
    assert recorded.status_code == 302, _text(recorded)
    due = _parts(add_working_days(uk_date(utcnow()), 5))
    form = _text(lado.get(f"{meeting_url}/actions"))
    assert f"{agencies.officer.full_name}, Brookshire Police" in form
    for text, owner in (
        ("Share the disclosure timetable", f"user:{agencies.officer.id}"),
        ("Send the staff rota", f"organisation:{place.school_id}"),
    ):
        added = lado.submit(f"{meeting_url}/actions", {"text": text, "owner": owner, "due_on": due})
        assert added.status_code == 302, _text(added)
    assert lado.post_form(f"{meeting_url}/send/actions").status_code == 302
    for_officer = _text(officer.get(as_police))
    assert "Share the disclosure timetable" in for_officer
    assert "Send the staff rota" not in for_officer
    assert "Share the disclosure timetable" not in _text(
        dsl.get(as_police.replace(police, str(place.school_id)))
    )
    assert "Share the disclosure timetable" in _text(
        lado.get(f"/authorities/{place.authority_id}/actions")
    )
    with app.app_context():
        told = {
            (m.template, m.recipient)
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.template.like("meeting_%"))
            )
        }
    assert ("meeting_invitation", agencies.officer.email) in told
    assert ("meeting_actions", agencies.officer.email) in told
    assert not any(recipient == colleague_account.email for _, recipient in told)


def test_answers_sent_after_the_meeting_are_taken_and_marked_late(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _referral(app, place, dsl, lado, received_days_ago=2)
    response = _arrange(
        lado,
        case_url,
        place,
        date=_parts(uk_date(utcnow()) - timedelta(days=1)),
        date_reason="Recorded afterwards",
    )
    meeting_url = response.headers["Location"]
    _ask(lado, meeting_url, place.school_id, "employer")
    request_url = f"/organisations/{place.school_id}/requests/{_request_id(app, place.school_id)}"
    assert "This was due by" in _text(dsl.get(request_url))
    dsl.submit(request_url, {"cctv": "None kept", "send": "Send"})
    assert "after the meeting had started" in _text(dsl.get(request_url))
    assert "Sent late" in _text(lado.get(meeting_url))


def test_each_organisation_sees_only_its_own_requests(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    _ask(lado, meeting_url, agencies.police_id, "police")
    police_request = _request_id(app, agencies.police_id)
    # Another organisation's user, even with the id: 404 through their own organisation,
    # and no way in through the police's.
    other = signed_in_as(app, place.other_dsl)
    own = f"/organisations/{place.other_school_id}/requests"
    assert other.get(f"{own}/{police_request}").status_code == 404
    assert other.get(f"/organisations/{agencies.police_id}/requests").status_code == 404
    assert "There are no requests" in _text(other.get(own))
    # A partner never reaches the LADO's meeting page.
    police = signed_in_as(app, agencies.officer)
    assert police.get(meeting_url).status_code == 404
    assert police.get(f"{meeting_url}/pack").status_code == 404


def test_another_authoritys_lado_gets_404(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    elsewhere = make_authority(app, code="ELS")
    stranger = signed_in_as(app, make_account(app, Role.LADO, authority_id=elsewhere))
    own_prefix = f"/authorities/{elsewhere}"
    theirs = meeting_url.split("/cases/", 1)[1]
    for path in (meeting_url, f"{meeting_url}/pack", f"{meeting_url}/invitation.ics"):
        assert stranger.get(path).status_code == 404
    # Their own authority's address with this case's ids: not found either.
    assert stranger.get(f"{own_prefix}/cases/{theirs}").status_code == 404
    # And a meeting id under another case of the right authority: 404.
    other_case = _referral(app, place, dsl, lado)
    wrong = f"{other_case}/meetings/{meeting_url.rsplit('/', 1)[1]}"
    assert lado.get(wrong).status_code == 404


def test_answers_and_the_place_are_sealed_in_the_database(
    app: Flask, database: Any, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    from tests.rawdata import appears_in, canary, raw_database_bytes

    secret_place, secret_answer = canary(), canary()
    case_url = _referral(app, place, dsl, lado)
    response = _arrange(lado, case_url, place, place=secret_place)
    meeting_url = response.headers["Location"]
    _ask(lado, meeting_url, place.school_id, "employer")
    request_url = f"/organisations/{place.school_id}/requests/{_request_id(app, place.school_id)}"
    dsl.submit(request_url, {"conduct": secret_answer, "send": "Send"})
    assert secret_answer in _text(lado.get(meeting_url))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dump = raw_database_bytes(database)
    assert not appears_in(dump, secret_place)
    assert not appears_in(dump, secret_answer)


def test_reminders_go_once_when_due_tomorrow_and_once_when_overdue(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    from portal.meetings import reminders

    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    _ask(lado, meeting_url, place.school_id, "employer")
    _ask(lado, meeting_url, agencies.police_id, "police")
    police_request = f"/organisations/{agencies.police_id}/requests/"
    signed_in_as(app, agencies.officer).submit(
        police_request + str(_request_id(app, agencies.police_id)), {"pnc": "No", "send": "Send"}
    )
    with app.app_context():
        due_at = db.session.get_one(InformationRequest, _request_id(app, place.school_id)).due_at
        early = due_at - timedelta(days=5)
        assert reminders.send(early) == 0  # not due yet
        assert reminders.send(due_at - timedelta(hours=20)) == 1  # the school's, not the police's
        assert reminders.send(due_at - timedelta(hours=2)) == 0  # once only
        assert reminders.send(due_at + timedelta(hours=1)) == 1  # now overdue
        assert reminders.send(due_at + timedelta(days=3)) == 0
        sent = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template.like("request_%"))
        ).all()
        # Each of the school's two users, once per rule; of the case only its reference.
        assert sorted((m.template, m.recipient) for m in sent) == sorted(
            (template, email)
            for template in ("request_due_tomorrow", "request_overdue")
            for email in (place.dsl.email, place.colleague.email)
        )
        assert all(SUBJECT["full_name"] not in m.body for m in sent)
    result = app.test_cli_runner().invoke(args=["reminders"])
    assert result.exit_code == 0
    assert "Reminded 0 request(s)" in result.output


def test_an_allegations_meeting_after_its_time_scale_asks_why(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _referral(app, place, dsl, lado)
    later = _parts(add_working_days(uk_date(utcnow()), 10))  # 5 working days is the rule
    response = _arrange(lado, case_url, place, date=later)
    assert response.status_code == 200
    page = _text(response)
    assert "A meeting then misses its time-scale (allegations meeting by" in page
    assert "Select why the time-scale will be missed" in page
    assert PLACE_CANARY in page
    arranged = _arrange(
        lado,
        case_url,
        place,
        date=later,
        delay_reason="police_investigation",
        delay_detail="Police interviews first",
    )
    assert arranged.status_code == 302, _text(arranged)
    with app.app_context():
        late = db.session.scalars(
            select(Deadline).where(Deadline.kind == DeadlineKind.ALLEGATIONS_MEETING)
        ).one()
        assert late.delay_reason == DelayReason.POLICE_INVESTIGATION
        assert late.delay_detail == "Police interviews first"
        assert late.met_at is None  # met when the meeting is held


def _held_yesterday(app: Flask, place: Place, dsl: PortalClient, lado: PortalClient) -> str:
    case_url = _referral(app, place, dsl, lado, received_days_ago=2)
    response = _arrange(
        lado,
        case_url,
        place,
        date=_parts(uk_date(utcnow()) - timedelta(days=1)),
        date_reason="Recorded the day after",
    )
    assert response.status_code == 302, _text(response)
    return str(response.headers["Location"])


def test_after_the_meeting_its_actions_and_minutes_reach_the_invitees(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    meeting_url = _held_yesterday(app, place, dsl, lado)
    invited = f"/organisations/{place.school_id}/meetings/{meeting_url.rsplit('/', 1)[1]}"
    assert "Record the meeting" in _text(lado.get(meeting_url))

    empty = lado.submit(f"{meeting_url}/record", {"attendance": "", "decisions": ""})
    assert "Enter who attended" in _text(empty)
    assert "Enter what was decided" in _text(empty)
    kept = lado.submit(f"{meeting_url}/record", {"attendance": "LADO, DSL", "decisions": ""})
    assert "LADO, DSL" in _text(kept)
    recorded = lado.submit(
        f"{meeting_url}/record",
        {"attendance": "LADO, DSL, police", "decisions": "Suspend pending the police"},
    )
    assert recorded.status_code == 302, _text(recorded)
    with app.app_context():
        meeting = db.session.scalars(select(Meeting)).one()
        case = db.session.get_one(Case, meeting.case_id)
        assert case.status == CaseStatus.MEETINGS
        clocks = {
            d.kind: d
            for d in db.session.scalars(
                select(Deadline).where(
                    Deadline.kind.in_((DeadlineKind.ACTIONS, DeadlineKind.MINUTES))
                )
            )
        }
        ended = meeting.starts_at + timedelta(minutes=meeting.minutes_long)
        assert clocks[DeadlineKind.ACTIONS].due_at == ended + timedelta(hours=24)
        assert clocks[DeadlineKind.MINUTES].due_at == Timescale(10, Unit.WORKING_DAYS).due(ended)
    page = _text(lado.get(meeting_url))
    assert "Suspend pending the police" in page
    assert "Send the meeting's actions by" in page

    for data, message in (
        ({"text": "", "owner": f"organisation:{place.school_id}"}, "Enter the action"),
        ({"text": "Send the rota", "owner": ""}, "Select who will do it"),
        ({"text": "Send the rota", "owner": f"organisation:{uuid.uuid4()}"}, "Select who"),
    ):
        due = _parts(add_working_days(uk_date(utcnow()), 5))
        wrong = lado.submit(f"{meeting_url}/actions", {**data, "due_on": due})
        assert wrong.status_code == 200
        assert message in _text(wrong)
    added = lado.submit(
        f"{meeting_url}/actions",
        {
            "text": "Send the staff rota for the week",
            "owner": f"organisation:{place.school_id}",
            "due_on": _parts(add_working_days(uk_date(utcnow()), 5)),
        },
    )
    assert added.status_code == 302, _text(added)
    before = _text(dsl.get(invited))
    assert "has not sent the meeting's actions yet" in before
    assert "Send the staff rota" not in before
    assert lado.post_form(f"{meeting_url}/send/actions").status_code == 302
    assert "Send the staff rota for the week" in _text(dsl.get(invited))

    assert "Enter the minutes" in _text(
        lado.submit(f"{meeting_url}/minutes", {"minutes": "", "send": "Send"})
    )
    lado.submit(f"{meeting_url}/minutes", {"minutes": "Draft minutes", "save": "Save"})
    assert "Draft minutes" not in _text(dsl.get(invited))
    sent = lado.submit(f"{meeting_url}/minutes", {"minutes": "Final minutes", "send": "Send"})
    assert sent.status_code == 302
    assert "Final minutes" in _text(dsl.get(invited))
    with app.app_context():
        met = db.session.scalars(
            select(Deadline).where(Deadline.kind.in_((DeadlineKind.ACTIONS, DeadlineKind.MINUTES)))
        ).all()
        assert all(d.met_at is not None for d in met)
        told = {
            (m.template, m.recipient)
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.template.like("meeting_%"))
            )
        }
    for template in ("meeting_actions", "meeting_minutes"):
        assert (template, place.dsl.email) in told
        assert (template, place.lado.email) in told
    # An organisation not invited: 404.
    other = signed_in_as(app, place.other_dsl)
    not_invited = invited.replace(str(place.school_id), str(place.other_school_id))
    assert other.get(not_invited).status_code == 404


def test_a_meeting_to_come_cannot_be_recorded_yet(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    assert "Record the meeting" not in _text(lado.get(meeting_url))
    early = lado.submit(f"{meeting_url}/record", {"attendance": "A", "decisions": "B"})
    assert "The meeting has not started yet" in _text(early)
    assert lado.post_form(f"{meeting_url}/send/actions").status_code == 302
    assert "Record the meeting as held first" in _text(lado.get(meeting_url))


def test_an_authority_adds_its_own_question_and_removing_it_keeps_the_answers(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    admin = signed_in_as(
        app, make_account(app, Role.AUTHORITY_ADMIN, authority_id=place.authority_id)
    )
    page_url = f"/authorities/{place.authority_id}/checklists"
    assert "PNC check" in _text(admin.get(page_url))
    for data, message in (
        ({"agency": "", "text": "Firearms licence?"}, "Select the checklist to add it to"),
        ({"agency": "police", "text": ""}, "Enter the question"),
        ({"agency": "police", "text": "x" * 301}, "The question must be 300 characters or fewer"),
    ):
        wrong = admin.submit(page_url, data)
        assert wrong.status_code == 200
        assert message in _text(wrong)
    assert "Firearms licence?" in _text(
        admin.submit(page_url, {"agency": "", "text": "Firearms licence?"})
    )
    question = "Does the person hold a firearms licence?"
    added = admin.submit(page_url, {"agency": "police", "text": question})
    assert added.status_code == 302
    assert lado.get(page_url).status_code == 403  # the settings are the administrators'

    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    _ask(lado, meeting_url, agencies.police_id, "police")
    requests_url = f"/organisations/{agencies.police_id}/requests"
    request_url = f"{requests_url}/{_request_id(app, agencies.police_id)}"
    police = signed_in_as(app, agencies.officer)
    form = _text(police.get(request_url))
    assert form.index(question) < form.index("Anything else")
    with app.app_context():
        key = f"added_{db.session.scalars(select(ChecklistQuestion.id)).one().hex}"
    police.submit(request_url, {key: "Yes, a shotgun certificate", "send": "Send"})
    assert "Yes, a shotgun certificate" in _text(lado.get(meeting_url))

    with app.app_context():
        question_id = db.session.scalars(select(ChecklistQuestion.id)).one()
    admin.get(page_url)
    removed = admin.post_form(f"{page_url}/{question_id}/remove")
    assert removed.status_code == 302
    assert "(yours)" not in _text(admin.get(page_url))
    # Answers given stay where they were given; requests from now on do not ask it.
    assert "Yes, a shotgun certificate" in _text(lado.get(meeting_url))
    assert "Yes, a shotgun certificate" in _text(police.get(request_url))
    second = _meeting_url(lado, _referral(app, place, dsl, lado), place)
    _ask(lado, second, agencies.police_id, "police")
    with app.app_context():
        newest = db.session.scalars(
            select(InformationRequest.id).order_by(InformationRequest.requested_at.desc())
        ).first()
    assert question not in _text(police.get(f"{requests_url}/{newest}"))
    # Another authority's administrator: not found.
    elsewhere = make_authority(app, code="OTH")
    stranger = signed_in_as(app, make_account(app, Role.AUTHORITY_ADMIN, authority_id=elsewhere))
    assert stranger.get(page_url).status_code == 404
    stranger.get(f"/authorities/{elsewhere}/checklists")
    assert (
        stranger.post_form(f"/authorities/{elsewhere}/checklists/{question_id}/remove").status_code
        == 404
    )


def test_outstanding_actions_are_listed_to_chase_and_leave_when_done(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    meeting_url = _held_yesterday(app, place, dsl, lado)
    lado.submit(f"{meeting_url}/record", {"attendance": "LADO", "decisions": "Two actions"})
    today = uk_date(utcnow())
    for text, due in (("Send the rota", today), ("Confirm the suspension", today + timedelta(7))):
        added = lado.submit(
            f"{meeting_url}/actions",
            {"text": text, "owner": f"organisation:{place.school_id}", "due_on": _parts(due)},
        )
        assert added.status_code == 302, _text(added)
    listing_url = f"/authorities/{place.authority_id}/actions"
    listing = _text(lado.get(listing_url))
    assert listing.index("Send the rota") < listing.index("Confirm the suspension")
    assert listing.count("Chase now") == 1
    with app.app_context():
        rota = db.session.scalars(select(MeetingAction)).all()
        rota_id = next(a.id for a in rota if a.text == "Send the rota")
    chased = lado.post_form(f"{meeting_url}/actions/{rota_id}/chased")
    assert chased.status_code == 302
    listing = _text(lado.get(listing_url))
    assert "Chase now" not in listing
    assert f"Last chased {long_date(today)}" in listing
    assert long_date(today + timedelta(days=14)) in listing  # a fortnight on
    lado.get(meeting_url)
    assert lado.post_form(f"{meeting_url}/actions/{rota_id}/done").status_code == 302
    assert "Send the rota" not in _text(lado.get(listing_url))
    # Another authority's LADO neither lists nor chases them.
    elsewhere = make_authority(app, code="FAR")
    stranger = signed_in_as(app, make_account(app, Role.LADO, authority_id=elsewhere))
    assert "Confirm the suspension" not in _text(stranger.get(f"/authorities/{elsewhere}/actions"))
    theirs = meeting_url.replace(str(place.authority_id), str(elsewhere))
    assert stranger.post_form(f"{theirs}/actions/{rota_id}/chased").status_code == 404


def test_an_agency_sends_files_with_its_answers_and_a_refused_file_loses_nothing(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    _ask(lado, meeting_url, agencies.police_id, "police")
    request_id = _request_id(app, agencies.police_id)
    request_url = f"/organisations/{agencies.police_id}/requests/{request_id}"
    police = signed_in_as(app, agencies.officer)
    police.get(request_url)

    def post(data: dict[str, Any], content: bytes | None = None, name: str = "") -> Any:
        payload: dict[str, Any] = {"csrf_token": police.csrf_token, **data}
        if content is not None:
            payload["file"] = (io.BytesIO(content), name)
        return police.post(request_url, data=payload, content_type="multipart/form-data")

    nothing = post({"pnc": "Known", "upload": "Upload file"})
    assert "Select a file" in _text(nothing)
    fake = post({"pnc": "Known to police", "send": "Send"}, b"not a pdf at all", "report.pdf")
    assert fake.status_code == 200
    page = _text(fake)
    assert "The selected file must be a PDF, Word document, Excel spreadsheet, JPG or PNG" in page
    assert "Known to police" in page  # what was typed is still there
    with app.app_context():
        assert db.session.get_one(InformationRequest, request_id).submitted_at is None
    added = post({"pnc": "Known to police", "upload": "Upload file"}, PDF, "custody record.pdf")
    assert added.status_code == 302
    page = _text(police.get(request_url))
    assert "custody record.pdf" in page
    assert "Known to police" in page  # kept as a draft with the upload
    file_id = re.search(rf"{request_url}/files/([0-9a-f-]{{36}})", page)
    assert file_id
    download = police.get(f"{request_url}/files/{file_id.group(1)}")
    assert download.get_data() == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    spare = post({"pnc": "Known to police", "upload": "Upload file"}, PDF, "spare.pdf")
    assert spare.status_code == 302
    spare_id = re.search(
        rf"{request_url}/files/([0-9a-f-]{{36}})\">spare", _text(police.get(request_url))
    )
    assert spare_id
    assert police.post_form(f"{request_url}/files/{spare_id.group(1)}/remove").status_code == 302
    assert "spare.pdf has been removed" in (after_removal := _text(police.get(request_url)))
    assert ">spare.pdf</a>" not in after_removal
    staff_url = f"{meeting_url}/requests/{request_id}/files/{file_id.group(1)}"
    assert lado.get(staff_url).headers["Location"].startswith("/account/confirm-it-is-you")
    step_up(lado, app, place.lado)
    assert lado.get(staff_url).status_code == 404  # a draft's file is the agency's own
    assert post({"pnc": "Known to police", "send": "Send"}).status_code == 302
    assert "custody record.pdf" in _text(lado.get(meeting_url))
    assert lado.get(staff_url).get_data() == PDF
    # Sent: it stays as it was; another organisation cannot reach it.
    police.get(request_url)
    assert police.post_form(f"{request_url}/files/{file_id.group(1)}/remove").status_code == 404
    other = signed_in_as(app, place.other_dsl)
    theirs = (
        f"/organisations/{place.other_school_id}/requests/{request_id}/files/{file_id.group(1)}"
    )
    assert other.get(theirs).status_code == 404


def test_the_minutes_may_be_a_document_and_a_refused_one_loses_nothing(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    meeting_url = _held_yesterday(app, place, dsl, lado)
    lado.submit(f"{meeting_url}/record", {"attendance": "LADO", "decisions": "Minutes to follow"})
    invited = f"/organisations/{place.school_id}/meetings/{meeting_url.rsplit('/', 1)[1]}"
    minutes_url = f"{meeting_url}/minutes"

    def post(data: dict[str, Any], content: bytes, name: str) -> Any:
        lado.get(minutes_url)
        payload = {"csrf_token": lado.csrf_token, "file": (io.BytesIO(content), name), **data}
        return lado.post(minutes_url, data=payload, content_type="multipart/form-data")

    refused = post({"minutes": "Typed so far", "send": "Send"}, b"not a pdf", "minutes.pdf")
    assert refused.status_code == 200
    page = _text(refused)
    assert "The selected file must be a PDF" in page
    assert "Typed so far" in page
    saved = post({"minutes": "", "save": "Save"}, PDF, "minutes of the meeting.pdf")
    assert saved.status_code == 302
    assert "minutes of the meeting.pdf" in _text(lado.get(meeting_url))
    assert "The LADO has not sent the minutes yet" in _text(dsl.get(invited))
    assert dsl.get(f"{invited}/minutes-document").status_code == 404  # not sent yet
    sent = lado.submit(minutes_url, {"minutes": "", "send": "Send"})
    assert sent.status_code == 302, _text(sent)
    assert "minutes of the meeting.pdf" in _text(dsl.get(invited))
    assert dsl.get(f"{invited}/minutes-document").get_data() == PDF
    step_up(lado, app, place.lado)
    assert lado.get(f"{meeting_url}/minutes-document").get_data() == PDF
    other = signed_in_as(app, place.other_dsl)
    theirs = invited.replace(str(place.school_id), str(place.other_school_id))
    assert other.get(f"{theirs}/minutes-document").status_code == 404
