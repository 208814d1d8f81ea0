"""Earlier contacts about the same person, in this authority and others: found by the
blind index however the name was written, shown by metadata only across authorities,
and every look-up audited."""

from __future__ import annotations

import html
import re

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, AuditKind, Role
from tests.client import PortalClient
from tests.factories import make_account, make_authority
from tests.referrals import journey
from tests.referrals.conftest import Place, signed_in_as


def _refer(client: PortalClient, place: Place, authority_id: object, **subject: object) -> str:
    case_url = journey.start_referral(client, place.school_id, authority_id)  # type: ignore[arg-type]
    journey.fill_in(client, case_url)
    journey.save(client, f"{case_url}/person", {**journey.SUBJECT, **subject})
    journey.send(client, case_url)
    return f"/authorities/{authority_id}/cases/{journey.case_id_of(case_url)}"


def test_earlier_contacts_about_the_same_person_across_authorities(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    elsewhere = make_authority(app, name="Elsewhere Council", code="ELS")
    first = _refer(dsl, place, place.authority_id)
    there = _refer(
        dsl,
        place,
        elsewhere,
        full_name="  morgan   SUBJECT-canary ",
        employer="Elsewhere secret employer",
    )
    _refer(dsl, place, place.authority_id, date_of_birth=["15", "6", "1984"])  # not the same
    lado = signed_in_as(app, place.lado)
    page = html.unescape(lado.get(first).get_data(as_text=True))
    assert "1 earlier contact with the same name and date of birth" in page
    assert "Elsewhere Council" in page
    link = re.search(r'href="([^"]*/earlier/[0-9a-f-]{36})"', page)
    assert link
    record = html.unescape(lado.get(link.group(1)).get_data(as_text=True))
    assert "Elsewhere Council" in record
    assert "ELS-" in record
    assert "Physical abuse" in record
    for secret in (
        journey.SUBJECT["full_name"],
        "Elsewhere secret employer",
        journey.INCIDENT["allegation"],
    ):
        assert secret not in record
    # The other authority's LADO sees the first one the same way.
    their_lado = signed_in_as(app, make_account(app, Role.LADO, authority_id=elsewhere))
    theirs = html.unescape(their_lado.get(there).get_data(as_text=True))
    assert "1 earlier contact" in theirs
    assert "Testshire Council" in theirs or "BRO-" in theirs
    assert their_lado.get(first).status_code == 404  # the record itself stays ours
    with app.app_context():
        kinds = db.session.scalars(
            select(AuditEvent.kind).where(
                AuditEvent.kind.in_(
                    [AuditKind.CASE_REPEATS_LOOKED_UP, AuditKind.CASE_EARLIER_RECORD_OPENED]
                )
            )
        ).all()
        assert AuditKind.CASE_EARLIER_RECORD_OPENED in kinds
        assert kinds.count(AuditKind.CASE_REPEATS_LOOKED_UP) >= 2


def test_an_earlier_record_is_reached_only_from_a_case_about_the_same_person(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    elsewhere = make_authority(app)
    unrelated = _refer(dsl, place, place.authority_id, date_of_birth=["1", "1", "1970"])
    there = _refer(dsl, place, elsewhere)
    lado = signed_in_as(app, place.lado)
    other_id = there.rsplit("/", 1)[-1]
    assert lado.get(f"{unrelated}/earlier/{other_id}").status_code == 404
