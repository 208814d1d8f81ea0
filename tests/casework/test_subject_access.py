"""Subject access requests: a LADO manager finds a person's records by name and date of
birth and exports them, with a fresh code, as a ZIP whose texts have other people taken
out, with a checksum manifest recorded in the audit trail."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, AuditKind, Role
from tests.casework.test_outcomes import _concluded
from tests.client import PortalClient
from tests.factories import Account, fresh_code, make_account, make_authority
from tests.meetings.test_meetings import _text
from tests.meetings.test_meetings import lado as lado
from tests.referrals.conftest import Place, signed_in_as
from tests.referrals.journey import CHILD, SUBJECT

BORN = {"date_of_birth": SUBJECT["date_of_birth"]}
NOTE = "Priya Referrer-Canary rang about Alex Child-Canary: call her on 01632 960 001"


def _sar(place: Place) -> str:
    return f"/authorities/{place.authority_id}/subject-access"


def _export(app: Flask, client: PortalClient, manager: Account, place: Place) -> Any:
    assert manager.totp_secret
    return client.submit(
        f"{_sar(place)}/found", {"code": fresh_code(app, manager.id, manager.totp_secret)}
    )


def _files(response: Any) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_persons_records_are_found_and_exported_without_anyone_else_in_them(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _concluded(app, place, dsl, lado)
    lado.submit(f"{case_url}/notes", {"text": NOTE, "add_note": "Add note"})
    manager = make_account(app, Role.LADO_MANAGER, authority_id=place.authority_id)
    client = signed_in_as(app, manager)

    # Bad input: each says what is missing, and keeps what was typed.
    no_name = client.submit(_sar(place), {"full_name": "", **BORN})
    assert no_name.status_code == 200
    assert "Enter the person's full name" in _text(no_name)
    no_date = client.submit(_sar(place), {"full_name": "Morgan Subject-Canary"})
    assert "Enter the person's date of birth" in _text(no_date)
    assert 'value="Morgan Subject-Canary"' in no_date.get_data(as_text=True)
    impossible = client.submit(
        _sar(place), {"full_name": "Morgan Subject-Canary", "date_of_birth": ["31", "2", "1984"]}
    )
    assert "Date of birth must be a real date" in _text(impossible)

    found = client.submit(_sar(place), {"full_name": "morgan subject-canary", **BORN})
    assert found.status_code == 302
    assert "canary" not in found.headers["Location"].lower()  # no name in a URL
    page = _text(client.get(found.headers["Location"]))
    assert "1 record found" in page
    assert case_url.rsplit("/", 1)[1] in page

    for code, message in (
        ("", "Enter the security code"),
        ("000000", "The security code is not right or has already been used"),
    ):
        refused = client.submit(f"{_sar(place)}/found", {"code": code})
        assert refused.status_code == 200
        assert message in _text(refused)

    exported = _export(app, client, manager, place)
    assert exported.status_code == 200, _text(exported)
    assert exported.mimetype == "application/zip"
    disposition = exported.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="subject-access-')
    assert "canary" not in disposition.lower()
    files = _files(exported)
    assert set(files) == {"records.html", "records.json", "manifest.sha256"}
    # The manifest is sha256sum's: each file's checksum and name.
    manifest = files["manifest.sha256"].decode()
    for line in manifest.splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(files[name]).hexdigest() == digest
    records = json.loads(files["records.json"])["records"]
    assert len(records) == 1
    assert records[0]["about_you"]["full_name"] == "Morgan Subject-Canary"
    assert records[0]["about_you"]["address"] == SUBJECT["address"]
    assert "Grabbed a pupil's arm" in records[0]["allegation"]
    assert records[0]["notes"][0]["text"].startswith("[redacted] rang about [redacted]")
    everything = b"".join(files.values()).decode()
    for someone_else in (
        CHILD["name"],
        "Child-Canary",
        "Priya",
        "Referrer-Canary",
        "01632 960 001",
        "3 February 2016",
        CHILD["words"],
    ):
        assert someone_else not in everything, someone_else
    assert "Morgan Subject-Canary" in files["records.html"].decode()
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.SUBJECT_ACCESS_EXPORTED)
        ).one()
        assert (
            event.detail["manifest_sha256"] == hashlib.sha256(files["manifest.sha256"]).hexdigest()
        )
        assert event.detail["cases"] == [case_url.rsplit("/", 1)[1]]
        assert event.actor_id == manager.id
        # The search is recorded too; neither holds the name.
        searched = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.SUBJECT_ACCESS_SEARCHED)
        ).all()
        assert len(searched) == 1
        assert "Canary" not in json.dumps([event.detail, searched[0].detail])
    # The search is used up: the next export starts again.
    assert client.get(f"{_sar(place)}/found").status_code == 302


def test_a_person_with_no_records_gets_an_empty_recorded_answer(app: Flask, place: Place) -> None:
    manager = make_account(app, Role.LADO_MANAGER, authority_id=place.authority_id)
    client = signed_in_as(app, manager)
    found = client.submit(_sar(place), {"full_name": "Nobody Known", **BORN})
    assert "No records found" in _text(client.get(found.headers["Location"]))
    exported = _export(app, client, manager, place)
    assert exported.status_code == 200
    files = _files(exported)
    assert json.loads(files["records.json"])["records"] == []
    assert "We hold no record about you" in files["records.html"].decode()
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.SUBJECT_ACCESS_EXPORTED)
        ).one()
        assert event.detail["cases"] == []


def test_only_an_authoritys_managers_search_and_only_its_own_cases(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    _concluded(app, place, dsl, lado)
    assert lado.get(_sar(place)).status_code == 403
    assert dsl.get(_sar(place)).status_code == 404
    elsewhere = make_authority(app)
    other = make_account(app, Role.LADO_MANAGER, authority_id=elsewhere)
    client = signed_in_as(app, other)
    assert client.get(_sar(place)).status_code == 404
    own = f"/authorities/{elsewhere}/subject-access"
    found = client.submit(own, {"full_name": "Morgan Subject-Canary", **BORN})
    assert "No records found" in _text(client.get(found.headers["Location"]))
    # Without a search, the export page sends the manager back to search.
    fresh = signed_in_as(app, make_account(app, Role.LADO_MANAGER, authority_id=elsewhere))
    assert fresh.get(f"{own}/found").headers["Location"].endswith("/subject-access")
