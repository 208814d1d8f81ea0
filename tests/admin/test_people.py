"""Administrators manage the people of their authority or organisation."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, AuditKind, RecoveryCode, Role, User
from tests.client import PortalClient
from tests.conftest import Mailbox
from tests.factories import (
    Account,
    add_role,
    make_account,
    make_authority,
    make_organisation,
    sign_in,
)


@pytest.fixture
def authority_id(app: Flask) -> uuid.UUID:
    return make_authority(app, name="Brookfield Test Council")


@pytest.fixture
def admin(app: Flask, authority_id: uuid.UUID) -> Account:
    return make_account(app, Role.AUTHORITY_ADMIN, authority_id=authority_id)


@pytest.fixture
def lado(app: Flask, authority_id: uuid.UUID) -> Account:
    return make_account(app, Role.LADO, authority_id=authority_id, full_name="Lee Lado")


def roles_of(app: Flask, account: Account) -> list[str]:
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user
        return sorted(m.role.value for m in user.active_memberships)


def last_event(app: Flask) -> AuditEvent:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
        db.session.expunge_all()
        return max(events, key=lambda event: event.occurred_at)


def test_the_staff_list(
    client: PortalClient, app: Flask, admin: Account, lado: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    body = client.get(f"/authorities/{authority_id}/staff").get_data(as_text=True)
    assert "Lee Lado" in body
    assert lado.email in body
    assert "Authority administrator" in body


def test_changing_roles(
    client: PortalClient, app: Flask, admin: Account, lado: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    url = f"/authorities/{authority_id}/staff/{lado.id}"
    response = client.submit(url, {"roles": ["lado", "lado_manager"]})
    assert response.headers["Location"] == url
    assert roles_of(app, lado) == ["lado", "lado_manager"]
    event = last_event(app)
    assert event.kind is AuditKind.ROLE_CHANGED
    assert event.detail == {"before": ["lado"], "after": ["lado", "lado_manager"]}
    assert event.actor_id == admin.id
    assert event.target_user_id == lado.id


def test_roles_need_at_least_one(
    client: PortalClient, app: Flask, admin: Account, lado: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    response = client.submit(f"/authorities/{authority_id}/staff/{lado.id}", {})
    assert "Select at least one role" in response.get_data(as_text=True)
    assert roles_of(app, lado) == ["lado"]


def test_the_last_administrator_cannot_be_removed(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    response = client.submit(f"/authorities/{authority_id}/staff/{admin.id}", {"roles": ["lado"]})
    assert response.status_code == 200
    assert "must keep at least one active authority administrator" in response.get_data(
        as_text=True
    )
    assert roles_of(app, admin) == ["authority_admin"]


def test_deactivating_signs_the_person_out_at_once(
    client: PortalClient, app: Flask, admin: Account, lado: Account, authority_id: uuid.UUID
) -> None:
    lado_browser = app.test_client()
    sign_in(lado_browser, app, lado)  # type: ignore[arg-type]
    assert lado_browser.get("/").status_code == 200

    sign_in(client, app, admin)
    url = f"/authorities/{authority_id}/staff/{lado.id}/deactivate"
    assert "Deactivate Lee Lado?" in client.get(url).get_data(as_text=True)
    response = client.submit(url, {})
    assert response.status_code == 302
    assert lado_browser.get("/").status_code == 302
    refused = app.test_client().submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert "deactivated" in refused.get_data(as_text=True)
    with app.app_context():
        kinds = [event.kind for event in db.session.scalars(select(AuditEvent))]
    assert AuditKind.MEMBERSHIP_DEACTIVATED in kinds

    client.submit(f"/authorities/{authority_id}/staff/{lado.id}/reactivate", {})
    assert roles_of(app, lado) == ["lado"]
    assert last_event(app).kind is AuditKind.MEMBERSHIP_REACTIVATED


def test_administrators_cannot_deactivate_themselves(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    response = client.submit(f"/authorities/{authority_id}/staff/{admin.id}/deactivate", {})
    assert response.status_code == 200
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)


def test_resetting_an_authenticator(
    client: PortalClient,
    app: Flask,
    admin: Account,
    lado: Account,
    authority_id: uuid.UUID,
    mailbox: Mailbox,
) -> None:
    lado_browser = app.test_client()
    sign_in(lado_browser, app, lado)  # type: ignore[arg-type]
    sign_in(client, app, admin)
    client.submit(f"/authorities/{authority_id}/staff/{lado.id}/reset-authenticator", {})
    with app.app_context():
        user = db.session.get(User, lado.id)
        assert user
        assert user.totp_secret is None
        assert not user.mfa_enrolled
        assert user.password_hash is None
        assert (
            db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == lado.id)).first()
            is None
        )
    assert last_event(app).kind is AuditKind.MFA_RESET
    assert lado_browser.get("/").status_code == 302  # signed out at once
    # A phished password is no use now: the old one no longer works...
    browser = app.test_client()
    response = browser.submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert "Enter a correct email address and password" in response.get_data(as_text=True)
    # ...and the e-mailed link (proof of the mailbox) leads to a new password and app.
    email = mailbox.last()
    assert email["template"] == "authenticator_reset"
    assert email["to"] == lado.email
    assert "24 hours" in email["body"]
    path = re.search(r"https://portal\.test(/reset-password/\S+)", email["body"]).group(1)  # type: ignore[union-attr]
    browser.get(path)
    browser.submit("/reset-password", {"password": "sapphire-meadow-lantern-3"})
    response = browser.submit(
        "/sign-in", {"email": lado.email, "password": "sapphire-meadow-lantern-3"}
    )
    assert response.headers["Location"] == "/sign-in/set-up-authenticator"


def test_an_authenticator_is_reset_only_by_someone_who_administers_all_its_places(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    """The app belongs to the whole account: a school's administrator must not be able
    to reset the authenticator of a council administrator who is also a school governor."""
    school = make_organisation(app, [authority_id])
    head = make_account(app, Role.ORGANISATION_ADMIN, organisation_id=school)
    add_role(app, admin, Role.PARTNER_MEMBER, organisation_id=school)
    sign_in(client, app, head)
    url = f"/organisations/{school}/members/{admin.id}/reset-authenticator"
    page = client.get(url).get_data(as_text=True)
    assert "also works with Brookfield Test Council" in page
    assert "govuk-button--warning" not in page
    response = client.submit(url, {})
    assert response.status_code == 200
    with app.app_context():
        user = db.session.get(User, admin.id)
        assert user
        assert user.mfa_enrolled


def test_a_deactivated_persons_authenticator_is_not_reset(
    client: PortalClient, app: Flask, admin: Account, lado: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    client.submit(f"/authorities/{authority_id}/staff/{lado.id}/deactivate", {})
    response = client.submit(f"/authorities/{authority_id}/staff/{lado.id}/reset-authenticator", {})
    assert "Reactivate the account before resetting" in response.get_data(as_text=True)


def test_another_authoritys_person_is_not_found(
    client: PortalClient, app: Flask, admin: Account, authority_id: uuid.UUID
) -> None:
    elsewhere = make_account(app, Role.LADO, authority_id=make_authority(app))
    sign_in(client, app, admin)
    for suffix in ("", "/deactivate", "/reset-authenticator"):
        response = client.get(f"/authorities/{authority_id}/staff/{elsewhere.id}{suffix}")
        assert response.status_code == 404
    response = client.post_form(f"/authorities/{authority_id}/staff/{elsewhere.id}/deactivate")
    assert response.status_code == 404
    assert roles_of(app, elsewhere) == ["lado"]


def test_a_lado_cannot_administer(
    client: PortalClient, app: Flask, lado: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, lado)
    response = client.get(f"/authorities/{authority_id}/staff")
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)


def test_organisation_admins_manage_only_their_members(
    client: PortalClient, app: Flask, authority_id: uuid.UUID
) -> None:
    school = make_organisation(app, [authority_id])
    other_school = make_organisation(app, [authority_id])
    head = make_account(app, Role.ORGANISATION_ADMIN, organisation_id=school)
    dsl = make_account(app, Role.PARTNER_MEMBER, organisation_id=school)
    stranger = make_account(app, Role.PARTNER_MEMBER, organisation_id=other_school)
    sign_in(client, app, head)
    assert client.get(f"/organisations/{school}/members").status_code == 200
    assert client.get(f"/organisations/{school}/members/{dsl.id}").status_code == 200
    assert client.get(f"/organisations/{other_school}/members").status_code == 404
    assert client.get(f"/organisations/{school}/members/{stranger.id}").status_code == 404
    assert client.get(f"/authorities/{authority_id}/staff").status_code == 404
    # Organisation administrators look after accounts, not the organisation's details.
    assert client.get(f"/organisations/{school}").status_code == 403
    client.submit(
        f"/organisations/{school}/members/{dsl.id}",
        {"roles": ["partner_member", "organisation_admin"]},
    )
    assert roles_of(app, dsl) == ["organisation_admin", "partner_member"]


def test_a_member_cannot_manage_their_organisation(
    client: PortalClient, app: Flask, authority_id: uuid.UUID
) -> None:
    school = make_organisation(app, [authority_id])
    dsl = make_account(app, Role.PARTNER_MEMBER, organisation_id=school)
    sign_in(client, app, dsl)
    assert client.get(f"/organisations/{school}/members").status_code == 403


def test_navigation_differs_by_role(
    client: PortalClient, app: Flask, admin: Account, lado: Account, authority_id: uuid.UUID
) -> None:
    sign_in(client, app, admin)
    admin_home = client.get("/").get_data(as_text=True)
    for item in ("Staff", "Organisations", "Settings", "Your account", "Sign out"):
        assert f">{item}<" in admin_home.replace("\n", "").replace("  ", "") or item in admin_home
    client.post_form("/sign-out")
    lado_browser = app.test_client()
    sign_in(lado_browser, app, lado)  # type: ignore[arg-type]
    lado_home = lado_browser.get("/").get_data(as_text=True)
    assert f"/authorities/{authority_id}/staff" not in lado_home
    assert "Your account" in lado_home


def test_an_administrator_of_two_places_chooses_one(
    client: PortalClient, app: Flask, admin: Account
) -> None:
    second = make_authority(app, name="Second Test Council")
    add_role(app, admin, Role.AUTHORITY_ADMIN, authority_id=second)
    sign_in(client, app, admin)
    page = client.get("/administration").get_data(as_text=True)
    assert "Brookfield Test Council" in page
    assert "Second Test Council" in page
    assert "/administration" in client.get("/").get_data(as_text=True)


def test_an_authenticator_reset_ends_a_set_up_someone_else_has_half_done(
    client: PortalClient,
    app: Flask,
    admin: Account,
    authority_id: uuid.UUID,
) -> None:
    """Someone with a phished password is setting up their own app on a new account."""
    newcomer = make_account(app, Role.LADO, authority_id=authority_id, enrolled=False)
    intruder = app.test_client()
    response = intruder.submit("/sign-in", {"email": newcomer.email, "password": newcomer.password})
    assert response.headers["Location"] == "/sign-in/set-up-authenticator"
    secret = (
        re.search(
            r'portal-secret">([A-Z2-7 ]+)<',
            intruder.get("/sign-in/set-up-authenticator").get_data(as_text=True),
        )
        .group(1)
        .replace(" ", "")
    )  # type: ignore[union-attr]
    sign_in(client, app, admin)
    client.submit(f"/authorities/{authority_id}/staff/{newcomer.id}/reset-authenticator", {})
    import pyotp

    response = intruder.post_form(
        "/sign-in/set-up-authenticator", {"code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code in (302, 400)
    assert intruder.get("/").status_code == 302
    with app.app_context():
        user = db.session.get(User, newcomer.id)
        assert user
        assert not user.mfa_enrolled
