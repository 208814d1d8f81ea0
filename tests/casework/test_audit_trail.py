"""The audit trail page: an authority's events filtered by case, person, organisation,
kind and dates, paged, and exported as CSV (the export itself audited); another
authority's events are never shown, and a LADO without the permission gets 403."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Flask

from portal import audit
from portal.extensions import db
from portal.models import AuditKind, Role, utcnow
from portal.workdays import uk_date
from tests.client import PortalClient
from tests.factories import make_account, make_authority
from tests.meetings.test_meetings import _referral, _text
from tests.meetings.test_meetings import lado as lado
from tests.referrals.conftest import Place, signed_in_as


def _parts(day: object) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]  # type: ignore[attr-defined]


def test_the_trail_filters_and_exports_the_authoritys_events(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _referral(app, place, dsl, lado)
    lado.get(case_url)  # a view, audited
    other_authority = make_authority(app, code="OTH")
    with app.app_context():
        audit.record(AuditKind.CASE_VIEWED, authority_id=other_authority, detail_marker="elsewhere")
        db.session.commit()
    manager = signed_in_as(
        app, make_account(app, Role.LADO_MANAGER, authority_id=place.authority_id)
    )
    url = f"/authorities/{place.authority_id}/audit"
    page = _text(manager.get(url))
    assert "case.viewed" in page
    assert "elsewhere" not in page  # another authority's
    reference = _text(lado.get(case_url)).split('<h1 class="govuk-heading-l">')[1].split("<")[0]
    by_case = _text(manager.get(url, query_string={"reference": reference.lower()}))
    assert reference in by_case
    assert place.dsl.full_name in by_case  # the partner who sent it, named
    assert "No events match" not in by_case
    by_kind = _text(manager.get(url, query_string={"kind": "attachment.removed"}))
    assert "No events match" in by_kind
    for query, message in (
        ({"reference": "NOPE-1"}, "No case of this authority has that reference"),
        (
            {
                "start": _parts(uk_date(utcnow())),
                "end": _parts(uk_date(utcnow()) - timedelta(days=2)),
            },
            "The end date must be on or after the start date",
        ),
        ({"kind": "nonsense"}, "Select an option"),
    ):
        wrong = _text(manager.get(url, query_string=query))
        assert message in wrong, message
    exported = manager.get(f"{url}.csv", query_string={"reference": reference})
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][:3] == ["When (UK)", "What", "Who"]
    assert any(row[1] == "case.viewed" for row in rows[1:])
    assert "audit.exported" in _text(manager.get(url, query_string={"kind": "audit.exported"}))
    # A LADO has no audit permission; another authority's manager has no relation.
    assert lado.get(url).status_code == 403
    stranger = signed_in_as(app, make_account(app, Role.LADO_MANAGER, authority_id=other_authority))
    assert stranger.get(url).status_code == 404
