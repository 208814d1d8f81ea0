"""No answer, however odd, produces a 500: every form of the portal is fed hostile values
in every field, by an anonymous visitor, an administrator, a partner with a draft
referral and a LADO with a draft contact."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter

from portal import workflow
from portal.checklists import Agency
from portal.extensions import db
from portal.meetings import service as meetings
from portal.models import Case, DelayReason, MeetingKind, Organisation, Role, User, utcnow
from portal.redaction import Audience
from portal.updates import service as updates
from tests.client import PortalClient
from tests.factories import Account, make_account, make_authority, make_organisation, sign_in
from tests.referrals import journey

HOSTILE = [
    "\x00",
    "a\x00b",
    "x" * 20_000,
    "'; DROP TABLE users; --",
    '<script>alert("x")</script>',
    "\u202e\u200b\ufeff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀",
    "../../etc/passwd",
    "%00%0d%0a",
    "١٢٣٤٥٦",  # Arabic-Indic digits: not a security code
    "１２３４５６",  # full-width digits
    "1e309",
    "-1",
    str(uuid.uuid4()),
]
SCRIPT = '<script>alert("x")</script>'
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
INPUT = re.compile(r"<input([^>]*)>")
OPTION = re.compile(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')
# Plausible answers by field name, so that one hostile field at a time gets past the
# others' validation and reaches the services and the database.
GOOD = {
    "email": "fuzz@test.example",
    "password": "velvet-compass-orchard-19",
    "current_password": "correct-otter-basalt-91",
    "full_name": "Fuzz Person",
    "name": "Fuzz School",
    "display_name": "Fuzz Council",
    "privacy_notice_url": "https://fuzz.example/privacy",
    "code": "123456",
}


def good_answers(html: str) -> dict[str, object]:
    """The form as a careful user would fill it: current values, first choices."""
    answers: dict[str, object] = {}
    inputs = [dict(ATTRIBUTE.findall(match.group(1))) for match in INPUT.finditer(html)]
    # A GOV.UK date input: three text inputs under one name.
    dates = {
        name
        for name in {i.get("name") for i in inputs}
        if sum(1 for i in inputs if i.get("name") == name and i.get("type", "text") == "text") == 3
    }
    for attributes in inputs:
        name, kind = attributes.get("name"), attributes.get("type", "text")
        if not name or name == "csrf_token" or kind == "file":
            continue
        if name in dates:
            answers[name] = ["2", "11", "2025"]
        elif kind in ("radio", "checkbox"):
            answers.setdefault(name, attributes.get("value", "y"))
        else:
            answers[name] = attributes.get("value") or GOOD.get(name, "fuzz")
    for name, options in OPTION.findall(html):
        values = [value for value in re.findall(r'value="([^"]*)"', options) if value]
        if values:
            answers[name] = values[0]
    return answers


def form_urls(app: Flask, ids: dict[str, list[object]]) -> list[str]:
    """Every page with a form, once for each value its URL's parts may take; pages that
    remove or send something last, so the rest still have something to work on."""
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "POST" not in (rule.methods or ()) or "GET" not in (rule.methods or ()):
                continue
            choices = []
            for name in sorted(rule.arguments):
                converter = rule._converters[name]
                if isinstance(converter, AnyConverter):
                    choices.append([(name, next(iter(converter.items)))])
                else:
                    choices.append([(name, value) for value in ids[name]])
            for values in itertools.product(*choices):
                urls.append(url_for(rule.endpoint, **dict(values)))
    final = ("/remove", "/delete", "/check")
    return sorted(urls, key=lambda url: url.endswith(final))


def fuzz(client: PortalClient, url: str) -> int:
    page = client.get(url)
    if page.status_code != 200:
        return 0
    html = page.get_data(as_text=True)
    names = {name for name in FIELD.findall(html) if name != "csrf_token"}
    baseline = good_answers(html)
    sent = 0
    for name in sorted(names):
        for value in HOSTILE:
            response = client.post_form(url, {**baseline, name: value})
            assert response.status_code < 500, (url, name, value[:20], response.status_code)
            # Whatever is shown again is escaped: no script comes back as markup.
            assert SCRIPT not in response.get_data(as_text=True), (url, name)
            sent += 1
        # A field sent several times, as a tampered form could.
        response = client.post_form(url, {name: ["a", "b"]})
        assert response.status_code < 500, (url, name)
    # A forged or stale CSRF token: refused, on the "form has expired" page or (where
    # the page keeps what was typed) the form again with the reason; nothing done.
    forged = client.post(url, data={**baseline, "csrf_token": "forged"})
    if forged.status_code == 302:  # an upload page: back to itself, saying why
        forged = client.get(forged.headers["Location"])
    assert forged.status_code in (200, 400), (url, forged.status_code)
    assert "expired" in forged.get_data(as_text=True), url
    return sent


def _draft(client: PortalClient, case_url: str) -> dict[str, list[object]]:
    """A draft with a child and a file, so their pages have forms to fuzz."""
    journey.add_child(client, case_url)
    assert journey.upload(client, case_url).status_code == 302
    html = client.get(case_url + "/children").get_data(as_text=True)
    child_id = re.search(r"/children/([0-9a-f-]{36})", html)
    html = client.get(case_url + "/files").get_data(as_text=True)
    attachment_id = re.search(r"/files/([0-9a-f-]{36})", html)
    assert child_id
    assert attachment_id
    return {
        "case_id": [journey.case_id_of(case_url)],
        "child_id": [child_id.group(1)],
        "attachment_id": [attachment_id.group(1)],
        "key": ["about-you", "contact", "person", "what-happened", "actions"],
    }


def _asked(
    app: Flask, case_id: object, lado_id: uuid.UUID, organisation_id: uuid.UUID
) -> dict[str, list[object]]:
    """The sent case made a referral with a meeting, and the organisation asked for
    its checklist: the meeting's and the request's forms to fuzz."""
    with app.test_request_context():
        case = db.session.get_one(Case, case_id)
        lado = db.session.get_one(User, lado_id)
        organisation = db.session.get_one(Organisation, organisation_id)
        workflow.move(case, "start_triage", lado, version=case.version)
        workflow.move(
            case,
            "accept_referral",
            lado,
            version=case.version,
            rationale="The threshold is met",
            detail={"criteria": ["harmed_child"], "harm_category": "physical"},
        )
        meeting = meetings.arrange(
            case,
            lado,
            kind=MeetingKind.ALLEGATIONS,
            starts_at=utcnow() + timedelta(days=7),
            minutes_long=60,
            place="Room 1",
            chair=lado,
            organisations=[organisation],
            staff=[],
            date_reason="Whenever everyone could come",
            # From a Friday or a weekend, a week on is past the 5 working days.
            delay_reason=DelayReason.MEETING_AVAILABILITY,
            address_hash=None,
        )
        db.session.flush()
        asked = meetings.request_information(
            case, meeting, organisation, Agency.EMPLOYER, meetings.default_due(meeting), lado, None
        )
        # A draft update, for the page that chooses each audience's redactions.
        update = updates.write(
            case,
            lado,
            text="Spoke to the school on Monday: call 07700 900123",
            audiences=[Audience.POLICE, Audience.SUBJECT],
            other_names=["A Witness"],
            address_hash=None,
        )
        db.session.commit()
        return {"meeting_id": [meeting.id], "request_id": [asked.id], "update_id": [update.id]}


# Who fills the forms, and the least they need to reach them: (minimum posts, role).
PEOPLE = {
    "anonymous": (20, None),
    "administrator": (200, Role.AUTHORITY_ADMIN),
    "partner": (600, Role.PARTNER_MEMBER),
    # A LADO manager: every page a LADO has, and the retention pages too.
    "lado": (600, Role.LADO_MANAGER),
}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_form_survives_hostile_answers(app: Flask, who: str) -> None:
    authority_id = make_authority(app)
    organisation_id = make_organisation(app, [authority_id])
    lado = make_account(app, Role.LADO, authority_id=authority_id)
    minimum, role = PEOPLE[who]
    person: Account | None = None
    if role == Role.PARTNER_MEMBER:
        person = make_account(app, role, organisation_id=organisation_id)
    elif role is not None:
        person = make_account(app, role, authority_id=authority_id)
    client = app.test_client()
    assert isinstance(client, PortalClient)
    ids: dict[str, list[object]] = {
        "authority_id": [authority_id],
        "organisation_id": [organisation_id],
        "user_id": [lado.id],
        "token": ["not-a-token"],
        "case_id": [uuid.uuid4()],
        "child_id": [uuid.uuid4()],
        "attachment_id": [uuid.uuid4()],
        "key": ["about-you"],
        "name": ["start_triage"],
        "meeting_id": [uuid.uuid4()],
        "request_id": [uuid.uuid4()],
        "update_id": [uuid.uuid4()],
        "embargo_id": [uuid.uuid4()],
        "batch_id": [uuid.uuid4()],
    }
    if person is not None:
        sign_in(client, app, person)
    if who == "partner":
        ids |= _draft(client, journey.start_referral(client, organisation_id, authority_id))
        sent = journey.start_referral(client, organisation_id, authority_id)
        journey.fill_in(client, sent)
        journey.send(client, sent)
        ids |= _asked(app, journey.case_id_of(sent), lado.id, organisation_id)
    elif who == "lado":
        ids |= _draft(client, journey.start_contact(client, authority_id))
        # And a sent contact, for the case page's moves.
        sent = journey.start_contact(client, authority_id)
        journey.fill_in(client, sent, contact=True)
        journey.send(client, sent)
        ids["case_id"] = [*ids["case_id"], journey.case_id_of(sent)]
        ids["name"] = ["start_triage", "give_advice", "accept_referral", "transfer", "pause"]
        # And another, at its meeting, for the meeting's forms.
        at_meeting = journey.start_contact(client, authority_id)
        journey.fill_in(client, at_meeting, contact=True)
        journey.send(client, at_meeting)
        make_account(app, Role.PARTNER_MEMBER, organisation_id=organisation_id)
        ids |= _asked(app, journey.case_id_of(at_meeting), lado.id, organisation_id)
        ids["case_id"] = [*ids["case_id"], journey.case_id_of(at_meeting)]
    total = 0
    for url in form_urls(app, ids):
        total += fuzz(client, url)
        if person is not None and client.get("/").status_code != 200:
            sign_in(client, app, person)  # a fuzzed form may have signed us out
    assert total > minimum


def test_the_control_character_filter_is_added_once_per_form(app: Flask) -> None:
    from portal.auth.forms import SignInForm

    with app.test_request_context():
        for _ in range(3):
            form = SignInForm()
        assert len(form.email.filters) == 1
        assert SignInForm.email.kwargs.get("filters", ()) == ()
