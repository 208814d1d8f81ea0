"""Authority administrators manage their partner organisations and their settings."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, AuditKind, Authority, Organisation, Role
from portal.vocabulary import MeetingName, OrganisationType, SectorGroup
from tests.client import PortalClient
from tests.factories import Account, make_account, make_authority, make_organisation, sign_in


@pytest.fixture
def authority_id(app: Flask) -> uuid.UUID:
    return make_authority(app, name="Brookfield Test Council")


@pytest.fixture
def admin(app: Flask, authority_id: uuid.UUID) -> Account:
    return make_account(app, Role.AUTHORITY_ADMIN, authority_id=authority_id)


NEW_ORGANISATION = {"name": "Hilltop Academy", "type": "education", "sector": "education"}


def test_adding_a_new_organisation_then_inviting_its_administrator(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    response = client.submit(f"/authorities/{authority_id}/organisations/new", NEW_ORGANISATION)
    assert response.status_code == 302
    with app.app_context():
        organisation = db.session.scalars(select(Organisation)).one()
        assert organisation.type is OrganisationType.EDUCATION
        assert [a.id for a in organisation.authorities] == [authority_id]
        organisation_id = organisation.id
    assert response.headers["Location"] == f"/organisations/{organisation_id}/members"
    listing = client.get(f"/authorities/{authority_id}/organisations").get_data(as_text=True)
    assert "Hilltop Academy" in listing
    response = client.submit(
        f"/organisations/{organisation_id}/members/invite",
        {
            "full_name": "Hana Head",
            "email": "head@hilltop.example",
            "roles": ["organisation_admin"],
        },
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "type": "education", "sector": "education"}, "Enter the organisation"),
        ({"name": "A school", "sector": "education"}, "Select what kind of organisation"),
        ({"name": "A school", "type": "education", "sector": ""}, "Select a sector"),
        (
            {"name": "A school", "type": "spaceship", "sector": "education"},
            "Select what kind of organisation",
        ),
        ({"name": "x" * 201, "type": "education", "sector": "education"}, "200 characters"),
    ],
)
def test_organisation_form_errors_keep_the_answers(
    client: PortalClient,
    app: Flask,
    admin: Account,
    authority_id: uuid.UUID,
    data: dict[str, str],
    message: str,
) -> None:
    sign_in(client, app, admin)
    response = client.submit(f"/authorities/{authority_id}/organisations/new", data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert message in body
    if data["name"] and len(data["name"]) < 200:
        assert f'value="{data["name"]}"' in body
    if data.get("sector"):
        assert 'value="education" selected' in body


def test_an_organisation_name_is_unique(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    make_organisation(app, [make_authority(app)], name="Hilltop Academy")
    sign_in(client, app, admin)
    response = client.submit(
        f"/authorities/{authority_id}/organisations/new",
        {**NEW_ORGANISATION, "name": "hilltop academy "},
    )
    assert response.status_code == 200
    assert "is already in the portal" in response.get_data(as_text=True)


def test_adding_an_organisation_that_works_with_another_authority(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    police = make_organisation(
        app,
        [make_authority(app)],
        name="Shire Police",
        type=OrganisationType.POLICE,
        sector=SectorGroup.POLICE,
    )
    sign_in(client, app, admin)
    # Before it is linked, this authority's administrator cannot see it.
    assert client.get(f"/organisations/{police}").status_code == 404
    response = client.submit(
        f"/authorities/{authority_id}/organisations/add-existing", {"organisation": str(police)}
    )
    assert response.status_code == 302
    with app.app_context():
        organisation = db.session.get(Organisation, police)
        assert organisation
        assert len(organisation.authorities) == 2
    listing = client.get(f"/authorities/{authority_id}/organisations").get_data(as_text=True)
    assert "Shire Police" in listing
    assert "Looked after by Testshire Council" in listing
    # Working with an organisation is not managing it: its people stay with the council
    # that added it, so linking can never hand one council another's partner.
    for url in (
        f"/organisations/{police}",
        f"/organisations/{police}/members",
        f"/organisations/{police}/members/invite",
    ):
        assert client.get(url).status_code == 404, url


def test_linking_needs_a_choice(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    make_organisation(app, [make_authority(app)])
    sign_in(client, app, admin)
    response = client.submit(
        f"/authorities/{authority_id}/organisations/add-existing", {"organisation": ""}
    )
    assert "Select an organisation" in response.get_data(as_text=True)
    response = client.submit(
        f"/authorities/{authority_id}/organisations/add-existing",
        {"organisation": str(uuid.uuid4())},
    )
    assert "Select an organisation" in response.get_data(as_text=True)


def test_editing_an_organisation(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    school = make_organisation(app, [authority_id], name="Old Name School")
    sign_in(client, app, admin)
    response = client.submit(
        f"/organisations/{school}",
        {"name": "New Name School", "type": "education", "sector": "early_years"},
    )
    assert response.status_code == 302
    with app.app_context():
        organisation = db.session.get(Organisation, school)
        assert organisation
        assert organisation.name == "New Name School"
        assert organisation.sector is SectorGroup.EARLY_YEARS
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.ORGANISATION_UPDATED)
        ).one()
        assert event.detail == {"changed": ["name", "sector"]}


def test_another_authoritys_organisation_is_not_found(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    theirs = make_organisation(app, [make_authority(app)])
    sign_in(client, app, admin)
    for url in (
        f"/organisations/{theirs}",
        f"/organisations/{theirs}/members",
        f"/organisations/{theirs}/members/invite",
    ):
        assert client.get(url).status_code == 404, url


def test_authority_settings(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    url = f"/authorities/{authority_id}/settings"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Brookfield Test Council"' in page
    response = client.submit(
        url,
        {
            "display_name": "Brookfield Borough Council",
            "meeting_name": "POT",
            "privacy_notice_url": "https://www.brookfield.example/privacy",
            "minutes_working_days": "15",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        authority = db.session.get(Authority, authority_id)
        assert authority
        assert authority.meeting_name is MeetingName.POT
        assert authority.minutes_working_days == 15
        assert authority.display_name == "Brookfield Borough Council"
    # The header now carries the new name.
    assert "Brookfield Borough Council" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"display_name": ""}, "Enter the name shown in the portal"),
        ({"privacy_notice_url": "http://insecure.example/privacy"}, "Enter a web address"),
        ({"privacy_notice_url": "javascript:alert(1)"}, "Enter a web address"),
        ({"minutes_working_days": "20"}, "Select when minutes are sent"),
        ({"meeting_name": ""}, "Select what you call the allegations meeting"),
    ],
)
def test_settings_errors_keep_the_answers(
    client: PortalClient,
    app: Flask,
    admin: Account,
    authority_id: uuid.UUID,
    changes: dict[str, str],
    message: str,
) -> None:
    sign_in(client, app, admin)
    data = {
        "display_name": "Brookfield Borough Council",
        "meeting_name": "AMM",
        "privacy_notice_url": "https://www.brookfield.example/privacy",
        "minutes_working_days": "10",
        **changes,
    }
    response = client.submit(f"/authorities/{authority_id}/settings", data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert message in body
    if data["display_name"]:
        assert f'value="{data["display_name"]}"' in body
    with app.app_context():
        authority = db.session.get(Authority, authority_id)
        assert authority
        assert authority.display_name == "Brookfield Test Council"


def test_a_lado_cannot_change_settings(
    client: PortalClient, app: Flask, authority_id: uuid.UUID
) -> None:
    lado = make_account(app, Role.LADO, authority_id=authority_id)
    sign_in(client, app, lado)
    assert client.get(f"/authorities/{authority_id}/settings").status_code == 403
