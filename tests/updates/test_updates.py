"""Publishing an update through the real stack: the LADO writes it once, sees what each
audience will read with the portal's suggested redactions, confirms, and each
organisation reads only its own audience's text. Embargoes hold publishing back."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Case,
    CaseUpdate,
    Child,
    OutboxMessage,
    PublishedUpdate,
    Role,
    UpdateRecipient,
    utcnow,
)
from portal.redaction import Audience
from portal.workdays import uk_date
from tests.client import PortalClient
from tests.factories import make_account, make_authority
from tests.meetings.conftest import Agencies
from tests.meetings.test_meetings import _ask, _meeting_url, _parts, _referral, _request_id, _text
from tests.meetings.test_meetings import lado as lado
from tests.referrals.conftest import Place, signed_in_as
from tests.referrals.journey import ABOUT_YOU, ACTIONS, CHILD, SUBJECT

WITNESS = "Sam Witness-Canary"
UPDATE = (
    f"{CHILD['name']} told her teacher on Monday. {ABOUT_YOU['name']} referred it the same "
    f"day. {WITNESS} saw what happened. The police ({ACTIONS['crime_reference']}) will "
    f"interview Mr Subject at {SUBJECT['address']}. Call 07700 900123 with questions."
)


def _case(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> str:
    """A referral at its meeting, the police and children's services asked."""
    case_url = _referral(app, place, dsl, lado)
    meeting_url = _meeting_url(lado, case_url, place)
    _ask(lado, meeting_url, agencies.police_id, "police")
    _ask(lado, meeting_url, agencies.social_care_id, "childrens_services")
    return case_url


def _write(
    lado: PortalClient, case_url: str, audiences: list[str], text: str = UPDATE, **more: str
) -> Any:
    return lado.submit(
        f"{case_url}/updates/new",
        {"text": text, "audiences": audiences, "other_names": WITNESS, **more},
    )


def _form(page: str) -> dict[str, Any]:
    """The review form as the browser would send it untouched."""
    values: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name.group(1) == "csrf_token" or not value:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        if 'type="checkbox"' in tag or 'type="hidden"' in tag:
            values.setdefault(name.group(1), []).append(_unescape(value.group(1)))
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page):
        values[name] = _unescape(text).lstrip("\n")
    return {k: v[0] if k == "shown" else v for k, v in values.items()}


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _publish(lado: PortalClient, update_url: str, **changes: Any) -> Any:
    """Publish as the page shows it; with changes, as the LADO does: look at the texts
    again with them, then publish what was shown."""
    page = lado.get(update_url)
    if changes:
        values = {**_form(page.get_data(as_text=True)), **changes, "preview": "Show"}
        page = lado.post_form(update_url, values)
    return lado.post_form(update_url, {**_form(page.get_data(as_text=True)), "publish": "Publish"})


def _texts(app: Flask) -> dict[Audience, str]:
    with app.app_context():
        return {p.audience: p.text for p in db.session.scalars(select(PublishedUpdate))}


def test_each_audience_reads_its_own_redacted_text_and_nothing_else(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    written = _write(lado, case_url, ["referrer", "police", "childrens_services", "subject"])
    assert written.status_code == 302, _text(written)
    update_url = written.headers["Location"]
    review = _text(lado.get(update_url))
    assert "Always taken out for the subject" in review
    assert "Read by Brookshire Police" in review
    # Published as shown.
    published = _publish(lado, update_url)
    assert published.status_code == 302, _text(published)
    texts = _texts(app)
    assert set(texts) == {
        Audience.REFERRER,
        Audience.POLICE,
        Audience.CHILDRENS_SERVICES,
        Audience.SUBJECT,
    }
    assert texts[Audience.POLICE] == UPDATE
    for name in (CHILD["name"], "Alex", ABOUT_YOU["name"], "Priya", WITNESS, "Sam"):
        assert name not in texts[Audience.SUBJECT]
    assert ACTIONS["crime_reference"] not in texts[Audience.SUBJECT]
    assert SUBJECT["address"] not in texts[Audience.SUBJECT]
    assert "07700 900123" not in texts[Audience.SUBJECT]
    assert ACTIONS["crime_reference"] not in texts[Audience.REFERRER]  # police information
    assert CHILD["name"] in texts[Audience.REFERRER]  # the school knows the child
    with app.app_context():
        reached = {
            (p.audience, r.organisation_id)
            for p in db.session.scalars(select(PublishedUpdate))
            for r in p.recipients
        }
    assert reached == {
        (Audience.REFERRER, place.school_id),
        (Audience.POLICE, agencies.police_id),
        (Audience.CHILDRENS_SERVICES, agencies.social_care_id),
    }

    # Each organisation reads its own text, on its own pages.
    officer = signed_in_as(app, agencies.officer)
    police_request = (
        f"/organisations/{agencies.police_id}/requests/{_request_id(app, agencies.police_id)}"
    )
    assert ACTIONS["crime_reference"] in _text(officer.get(police_request))
    referral_page = _text(
        dsl.get(
            case_url.replace(
                f"/authorities/{place.authority_id}/cases",
                f"/organisations/{place.school_id}/referrals",
            )
        )
    )
    their_update = referral_page.split("Updates from the LADO")[1].split("What was sent")[0]
    assert "told her teacher on Monday" in their_update
    assert ACTIONS["crime_reference"] not in their_update  # though they sent it themselves
    # The original, and the page of each audience's text, are the team's alone.
    assert lado.get(update_url).status_code == 200
    assert dsl.get(update_url).status_code == 404
    other_lado = signed_in_as(
        app, make_account(app, Role.LADO, authority_id=make_authority(app, code="OTH"))
    )
    assert other_lado.get(update_url).status_code == 404
    # Everyone told is told to sign in, and nothing more.
    with app.app_context():
        messages = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "update_published")
        ).all()
        told = {m.recipient for m in messages}
        bodies = [m.subject + m.body for m in messages]
    assert {place.dsl.email, agencies.officer.email, agencies.social_worker.email} <= told
    for body in bodies:
        assert "sign in" in body.lower()
        for secret in (CHILD["name"], WITNESS, ACTIONS["crime_reference"], "told her teacher"):
            assert secret not in body
    # Published once: the page now shows what went out, and publishing again adds nothing.
    assert "Update published" in _text(lado.get(update_url))
    lado.post_form(update_url, {"publish": "Publish"})
    with app.app_context():
        assert len(db.session.scalars(select(PublishedUpdate)).all()) == 4


def test_the_lado_keeps_a_suggestion_in_or_takes_more_out(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    update_url = _write(lado, case_url, ["referrer"]).headers["Location"]
    values = _form(lado.get(update_url).get_data(as_text=True))
    assert "07700 900123" in values["redact_referrer"]  # suggested for the referrer
    kept = [v for v in values["redact_referrer"] if v != "07700 900123"]
    preview = lado.post_form(
        update_url,
        {**values, "redact_referrer": kept, "added_referrer": "Monday", "preview": "Show"},
    )
    page = _text(preview)
    assert "Call 07700 900123" in page
    assert "told her teacher on [redacted]" in page
    # Publishing what the preview showed (its choices are still ticked).
    shown = _form(preview.get_data(as_text=True))
    assert shown["redact_referrer"] == kept
    published = lado.post_form(update_url, {**shown, "publish": "Publish"})
    assert published.status_code == 302, _text(published)
    text = _texts(app)[Audience.REFERRER]
    assert "07700 900123" in text
    assert "Monday" not in text


def test_publishing_what_was_not_shown_is_refused(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    update_url = _write(lado, case_url, ["referrer"]).headers["Location"]
    values = _form(lado.get(update_url).get_data(as_text=True))
    changed = lado.post_form(update_url, {**values, "redact_referrer": [], "publish": "Publish"})
    assert changed.status_code == 200
    assert "The text has changed since you last looked" in _text(changed)
    assert _texts(app) == {}


def test_a_name_the_redaction_was_not_sure_of_is_put_to_the_lado(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    """The child's name written without its accent (or with one) is not taken out by
    itself, but the subject's text cannot go out with it: the page shows the words."""
    case_url = _case(app, place, dsl, lado, agencies)
    with app.app_context():
        case = db.session.get_one(Case, uuid.UUID(case_url.rsplit("/", 1)[1]))
        child = Child(id=uuid.uuid4(), case_id=case.id, authority_id=case.authority_id, position=9)
        child.name = "Zoë Quinn"
        case.children.append(child)
        db.session.commit()
    update_url = _write(lado, case_url, ["subject"], text="We spoke to Zoe today.").headers[
        "Location"
    ]
    blocked = _publish(lado, update_url)
    assert blocked.status_code == 200
    assert "still contains “Zoe”" in _text(blocked)
    assert _texts(app) == {}
    fixed = _publish(lado, update_url, added_subject="Zoe")
    assert fixed.status_code == 302, _text(fixed)
    assert _texts(app)[Audience.SUBJECT] == "We spoke to [redacted] today."


def test_an_update_with_a_mistake_says_so_and_keeps_what_was_typed(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    for data, message in (
        ({"text": "Kept words", "audiences": []}, "Select who the update is for"),
        ({"text": "", "audiences": ["police"]}, "Enter the update"),
        ({"text": "x" * 20001, "audiences": ["police"]}, "20,000 characters or fewer"),
        ({"text": "Kept words", "audiences": ["nobody"]}, "Select an option"),
    ):
        response = lado.submit(f"{case_url}/updates/new", {**data, "other_names": "Kept name"})
        assert response.status_code == 200
        page = _text(response)
        assert message in page
        assert "Kept name" in page
        if data["text"] == "Kept words":
            assert "Kept words" in page
    with app.app_context():
        assert db.session.scalars(select(CaseUpdate)).all() == []


def test_an_embargo_blocks_publishing_to_that_audience_until_lifted(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    tomorrow = _parts(uk_date(utcnow()) + timedelta(days=1))
    # The police ask, from the request made of them.
    officer = signed_in_as(app, agencies.officer)
    embargo_url = (
        f"/organisations/{agencies.police_id}/requests/"
        f"{_request_id(app, agencies.police_id)}/embargo"
    )
    for data, message in (
        (
            {"audience": "", "until": tomorrow, "reason": "Kept reason"},
            "Select who may not be told",
        ),
        ({"audience": "subject", "until": ["", "", ""], "reason": "Kept reason"}, "Enter the date"),
        (
            {
                "audience": "subject",
                "until": _parts(uk_date(utcnow()) - timedelta(days=2)),
                "reason": "Kept reason",
            },
            "today or in the future",
        ),
        (
            {"audience": "subject", "until": tomorrow, "reason": ""},
            "Enter why they may not be told",
        ),
    ):
        wrong = officer.submit(embargo_url, data)
        assert wrong.status_code == 200
        assert message in _text(wrong)
        if data["reason"]:
            assert "Kept reason" in _text(wrong)
    set_by_police = officer.submit(
        embargo_url, {"audience": "subject", "until": tomorrow, "reason": "Not yet interviewed"}
    )
    assert set_by_police.status_code == 302, _text(set_by_police)
    # The school is not the police: no such page.
    school_request = dsl.get(f"/organisations/{place.school_id}/requests")
    assert school_request.status_code == 200
    assert (
        dsl.get(embargo_url.replace(str(agencies.police_id), str(place.school_id))).status_code
        == 404
    )

    refused = _write(lado, case_url, ["subject", "police"])
    assert refused.status_code == 200
    assert "Nothing may be published to the subject until the end of" in _text(refused)
    # Another audience is not held back.
    assert _write(lado, case_url, ["police"]).status_code == 302
    embargoes = _text(lado.get(f"{case_url}/embargoes"))
    assert "Not yet interviewed" in embargoes
    assert "Brookshire Police" in embargoes
    with app.app_context():
        from portal.models import Embargo

        embargo_id = db.session.scalars(select(Embargo.id)).one()
    # Written before the embargo: its publishing is refused too.
    assert lado.post_form(f"{case_url}/embargoes/{embargo_id}/lift").status_code == 302
    update_url = _write(lado, case_url, ["subject"]).headers["Location"]
    lado.submit(
        f"{case_url}/embargoes", {"audience": "subject", "until": tomorrow, "reason": "Again"}
    )
    held = _publish(lado, update_url)
    assert held.status_code == 200
    assert "Nothing may be published to the subject" in _text(held)
    assert _texts(app) == {}


def test_an_update_of_another_case_or_authority_is_404(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, agencies: Agencies
) -> None:
    case_url = _case(app, place, dsl, lado, agencies)
    other_case = _referral(app, place, dsl, lado)
    update_url = _write(lado, case_url, ["police"]).headers["Location"]
    update_id = update_url.rsplit("/", 1)[1]
    assert lado.get(f"{other_case}/updates/{update_id}").status_code == 404
    assert lado.get(f"{case_url}/updates/{uuid.uuid4()}").status_code == 404
    with app.app_context():
        assert db.session.scalars(select(UpdateRecipient)).all() == []


def test_the_update_and_each_audiences_text_are_sealed_in_the_database(
    app: Flask,
    database: Any,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    agencies: Agencies,
) -> None:
    from tests.rawdata import appears_in, canary, raw_database_bytes

    secret_words, witness, reason = canary(), canary(), canary()
    case_url = _case(app, place, dsl, lado, agencies)
    update_url = _write(
        lado, case_url, ["police", "subject"], text=f"Update {secret_words}", other_names=witness
    ).headers["Location"]
    assert _publish(lado, update_url).status_code == 302
    lado.submit(
        f"{case_url}/embargoes",
        {"audience": "employer", "until": _parts(uk_date(utcnow())), "reason": reason},
    )
    assert secret_words in _texts(app)[Audience.POLICE]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dump = raw_database_bytes(database)
    for secret in (secret_words, witness, reason):
        assert not appears_in(dump, secret)
