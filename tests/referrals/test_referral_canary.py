"""The canary test of the encryption engine, for every personal answer of the referral
form: each is given a unique value, sent through the pages, and then looked for in the
raw database (SQLite's files, PostgreSQL's dump) and in the log. None may be there in
clear; the portal must still read every one back."""

from __future__ import annotations

import html
import logging
import secrets
from datetime import date

import pytest
from flask import Flask

from portal.models import Role
from tests.conftest import Database
from tests.factories import make_account
from tests.rawdata import appears_in, canary, raw_database_bytes
from tests.referrals import journey
from tests.referrals.conftest import Place, signed_in_as


def _phone() -> str:
    return f"07700 9{secrets.randbelow(10**5):05d}"


def _date(year: int) -> tuple[list[str], str]:
    """A date nobody else in the test uses, as the form posts it and as ISO text."""
    day = date(year, 1 + secrets.randbelow(12), 1 + secrets.randbelow(28))
    return journey.date_parts(day), day.isoformat()


def test_no_referral_answer_reaches_the_database_or_the_log_in_clear(
    app: Flask, place: Place, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets_by_field: dict[str, str] = {}

    def secret(field: str, value: str | None = None) -> str:
        secrets_by_field[field] = value or canary()
        return secrets_by_field[field]

    subject_born, subject_born_iso = _date(1961)
    child_born, child_born_iso = _date(2013)
    secrets_by_field["subject.date_of_birth"] = subject_born_iso
    secrets_by_field["child.date_of_birth"] = child_born_iso

    # A partner's referral, every personal answer a canary.
    dsl = signed_in_as(app, place.dsl)
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    about = {
        "name": secret("referrer_name"),
        "role": secret("referrer_role"),
        "phone": secret("referrer_phone", _phone()),
        "email": f"{secret('referrer_email')}@test.example",
    }
    subject = {
        **journey.SUBJECT,
        "full_name": secret("subject.full_name"),
        "other_names": secret("subject.other_names"),
        "date_of_birth": subject_born,
        "address": secret("subject.address"),
        "job_title": secret("subject.job_title"),
        "employer": secret("subject.employer"),
        "regulator": "other",
        "regulator_other": secret("subject.regulator_other"),
    }
    child = {
        **journey.CHILD,
        "name": secret("child.name"),
        "date_of_birth": child_born,
        "setting": secret("child.setting"),
        "words": secret("child.words"),
    }
    incident = {
        **journey.INCIDENT,
        "incident_dates_detail": secret("incident_dates_detail"),
        "location": secret("location"),
        "allegation": secret("allegation"),
        "alleged_by": secret("alleged_by"),
        "came_to_light": secret("came_to_light"),
        "late_reason": secret("late_reason"),
    }
    actions = {
        **journey.ACTIONS,
        "crime_reference": secret("crime_reference"),
        "other_agencies": secret("other_agencies"),
    }
    journey.save(dsl, f"{case_url}/about-you", about)
    journey.save(dsl, f"{case_url}/person", subject)
    journey.save(dsl, f"{case_url}/children", {"children_involved": "yes"})
    journey.add_child(dsl, case_url, child)
    journey.save(dsl, f"{case_url}/what-happened", incident)
    journey.save(dsl, f"{case_url}/actions", actions)
    file_content = secret("file_content")
    pdf = journey.PDF.replace(b"%%EOF", f"% {file_content}\n%%EOF".encode())
    file_name = secret("file_name")
    assert journey.upload(dsl, case_url, pdf, f"{file_name}.pdf").status_code == 302
    journey.send(dsl, case_url)

    # A second draft left with answers kept but not saved (errors, "come back later").
    draft_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    dsl.submit(
        f"{draft_url}/person",
        {**subject, "full_name": secret("kept.full_name"), "date_of_birth": ["31", "2", "1961"]},
    )
    dsl.submit(f"{draft_url}/about-you", {**about, "name": secret("later.name"), "action": "later"})

    # A contact the LADO logs: the caller's details.
    lado = signed_in_as(app, place.lado)
    contact_url = journey.start_contact(lado, place.authority_id)
    journey.save(
        lado,
        f"{contact_url}/contact",
        {
            **journey.CONTACT,
            "referrer_name": secret("caller_name"),
            "referrer_role": secret("caller_role"),
            "referrer_organisation_name": secret("caller_organisation"),
            "phone": secret("caller_phone", _phone()),
            "email": f"{secret('caller_email')}@test.example",
        },
    )

    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()  # every write in the files
    dump = raw_database_bytes(database)
    assert dump
    for field, value in secrets_by_field.items():
        assert not appears_in(dump, value), f"{field} is in the database in clear"
        assert value not in caplog.text, f"{field} is in the log"

    # ...and the portal reads every one back to those allowed.
    shown = html.unescape(dsl.get(case_url).get_data(as_text=True))
    for field in ("subject.full_name", "child.words", "allegation", "crime_reference", "file_name"):
        assert secrets_by_field[field] in shown, field
    assert dsl.get(f"{case_url}/files").status_code == 302  # sent: read-only
    kept = html.unescape(dsl.get(f"{draft_url}/person").get_data(as_text=True))
    assert secrets_by_field["kept.full_name"] in kept
    caller = html.unescape(lado.get(f"{contact_url}/contact").get_data(as_text=True))
    assert secrets_by_field["caller_name"] in caller


def test_an_organisation_administrator_without_the_member_role_cannot_read_it(
    app: Flask, place: Place
) -> None:
    """An organisation's administrator manages accounts; referrals are for members. (In
    their own organisation they are told they may not, as elsewhere in the portal.)"""
    dsl = signed_in_as(app, place.dsl)
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    admin = make_account(app, Role.ORGANISATION_ADMIN, organisation_id=place.school_id)
    client = signed_in_as(app, admin)
    assert client.get(case_url).status_code == 403
    assert client.get(f"/organisations/{place.school_id}/referrals").status_code == 403
