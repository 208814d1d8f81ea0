"""Invitations: one-time links that expire after 72 hours, then a password and an
authenticator app."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select, update

from portal.auth.service import user_by_email
from portal.extensions import db
from portal.models import Invitation, RecoveryCode, Role, User, utcnow
from tests.client import PortalClient
from tests.conftest import Mailbox
from tests.factories import (
    Account,
    fresh_code,
    make_account,
    make_authority,
    make_organisation,
    sign_in,
)

LINK = re.compile(r"https://portal\.test(/invitation/[A-Za-z0-9_-]+)")


@pytest.fixture
def admin(app: Flask) -> Account:
    return make_account(app, Role.AUTHORITY_ADMIN, authority_id=make_authority(app))


def authority_of(app: Flask, account: Account) -> str:
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user
        return str(user.memberships[0].authority_id)


def invite(
    client: PortalClient,
    app: Flask,
    admin: Account,
    mailbox: Mailbox,
    email: str = "new.lado@test.example",
    roles: tuple[str, ...] = ("lado",),
) -> str:
    """An administrator invites someone; returns the path in the e-mailed link."""
    sign_in(client, app, admin)
    authority_id = authority_of(app, admin)
    response = client.submit(
        f"/authorities/{authority_id}/staff/invite",
        {"full_name": "Nia New", "email": email, "roles": list(roles)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    match = LINK.search(mailbox.last()["body"])
    assert match, mailbox.last()
    return match.group(1)


INVITEE_PASSWORD = "plum-anchor-meadow-58"


def accept(app: Flask, path: str, password: str = INVITEE_PASSWORD) -> PortalClient:
    """The invitee opens the link in a fresh browser and chooses a password."""
    browser = app.test_client()
    response = browser.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/invitation"
    response = browser.submit("/invitation", {"password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/sign-in/set-up-authenticator"
    return browser  # type: ignore[return-value]


def secret_on_page(html: str) -> str:
    match = re.search(r'portal-secret">([A-Z2-7 ]+)<', html)
    assert match
    return match.group(1).replace(" ", "")


def test_a_new_person_joins_by_invitation(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    path = invite(client, app, admin, mailbox)
    email = mailbox.last()
    assert email["to"] == "new.lado@test.example"
    assert "Nia New" in email["body"]
    assert "LADO" in email["body"]
    assert "72 hours" in email["body"]

    browser = accept(app, path)
    page = browser.get("/sign-in/set-up-authenticator")
    html = page.get_data(as_text=True)
    assert '<svg role="img"' in html  # the QR code, drawn on the server
    secret = secret_on_page(html)

    wrong = browser.submit("/sign-in/set-up-authenticator", {"code": "123456"})
    assert "The security code is not right" in wrong.get_data(as_text=True)

    done = browser.submit("/sign-in/set-up-authenticator", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert browser.get("/").status_code == 200  # signed in

    with app.app_context():
        user = user_by_email("new.lado@test.example")
        assert user is not None
        assert [m.role for m in user.memberships] == [Role.LADO]
        assert user.password_hash
        assert user.password_hash.startswith("$argon2id$")
        stored = [row.code_hash for row in db.session.scalars(select(RecoveryCode))]
        assert len(stored) == 10
        assert not any(code.replace("-", "") in stored or code in stored for code in codes)
        invitation = db.session.scalars(select(Invitation)).one()
        assert invitation.accepted_at is not None


def test_the_link_works_once(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    path = invite(client, app, admin, mailbox)
    accept(app, path)
    again = app.test_client().get(path)
    assert again.status_code == 404
    assert "already been used" in again.get_data(as_text=True)


def test_the_link_expires_after_72_hours(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    path = invite(client, app, admin, mailbox)
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        assert (
            timedelta(hours=71, minutes=59)
            < invitation.expires_at - utcnow()
            <= timedelta(hours=72)
        )
        db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "This invitation has expired" in body
    assert "Ask the person who invited you to send a new invitation" in body


def test_an_unknown_link_explains_what_to_do(app: Flask) -> None:
    response = app.test_client().get("/invitation/not-a-real-token")
    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)


def test_the_invitation_page_without_a_link(app: Flask) -> None:
    response = app.test_client().get("/invitation")
    assert response.status_code == 404


def test_resending_replaces_the_old_link(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    old_path = invite(client, app, admin, mailbox)
    with app.app_context():
        invitation_id = db.session.scalars(select(Invitation.id)).one()
    authority_id = authority_of(app, admin)
    client.get(f"/authorities/{authority_id}/staff")
    response = client.post_form(f"/authorities/{authority_id}/invitations/{invitation_id}/resend")
    assert response.status_code == 302
    new_path = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    assert new_path != old_path
    assert app.test_client().get(old_path).status_code == 404
    accept(app, new_path)


def test_cancelling_an_invitation(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    path = invite(client, app, admin, mailbox)
    with app.app_context():
        invitation_id = db.session.scalars(select(Invitation.id)).one()
    authority_id = authority_of(app, admin)
    client.get(f"/authorities/{authority_id}/staff")
    client.post_form(f"/authorities/{authority_id}/invitations/{invitation_id}/cancel")
    assert app.test_client().get(path).status_code == 404
    page = client.get(f"/authorities/{authority_id}/staff").get_data(as_text=True)
    assert "Invitations not yet accepted" not in page


def test_a_weak_password_is_refused_and_the_invitation_kept(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    path = invite(client, app, admin, mailbox)
    browser = app.test_client()
    browser.get(path)
    for password, message in [
        ("", "Enter a password"),
        ("short", "Password must be 12 characters or more"),
        ("password1234", "too common"),
        ("aaaaaaaaaaaaaaaa", "harder to guess"),
        ("Nia-New-lado-2026", "must not contain your name or email address"),
        ("x" * 129, "Password must be 128 characters or fewer"),
    ]:
        response = browser.submit("/invitation", {"password": password})
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert message in body, (password, message)
        assert 'href="#password"' in body
    assert browser.submit("/invitation", {"password": "plum-anchor-meadow-58"}).status_code == 302


def test_someone_with_an_account_signs_in_to_accept(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    other_authority = make_authority(app)
    existing = make_account(
        app, Role.LADO, authority_id=other_authority, email="shared@test.example"
    )
    path = invite(client, app, admin, mailbox, email="shared@test.example", roles=("lado_manager",))
    assert "Open this link and sign in to accept" in mailbox.last()["body"]

    browser = app.test_client()
    browser.get(path)
    page = browser.get("/invitation")
    assert "Sign in to accept your invitation" in page.get_data(as_text=True)
    response = sign_in(browser, app, existing, next_path="/invitation")
    assert response.headers["Location"] == "/invitation"
    response = browser.submit("/invitation", {})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, existing.id)
        assert user
        assert sorted(m.role.value for m in user.memberships) == ["lado", "lado_manager"]


def test_inviting_someone_already_here_is_refused_with_a_reason(
    client: PortalClient, app: Flask, admin: Account
) -> None:
    sign_in(client, app, admin)
    authority_id = authority_of(app, admin)
    response = client.submit(
        f"/authorities/{authority_id}/staff/invite",
        {"full_name": "Me Again", "email": admin.email, "roles": ["lado"]},
    )
    assert response.status_code == 200
    assert "already has an account here" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"full_name": "", "email": "a@test.example", "roles": ["lado"]}, "Enter their full name"),
        ({"full_name": "A", "email": "nope", "roles": ["lado"]}, "in the correct format"),
        ({"full_name": "A", "email": "a@test.example"}, "Select at least one role"),
        (
            {"full_name": "x" * 201, "email": "a@test.example", "roles": ["lado"]},
            "200 characters or fewer",
        ),
        # A role from the wrong kind of place, as a tampered form would send it
        (
            {"full_name": "A", "email": "a@test.example", "roles": ["partner_member"]},
            "Select at least one role",
        ),
    ],
)
def test_invitation_form_errors_keep_what_was_typed(
    client: PortalClient, app: Flask, admin: Account, data: dict[str, object], message: str
) -> None:
    sign_in(client, app, admin)
    authority_id = authority_of(app, admin)
    response = client.submit(f"/authorities/{authority_id}/staff/invite", data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert message in body
    assert "govuk-error-summary" in body
    if data.get("email"):
        assert f'value="{data["email"]}"' in body


def test_organisation_admins_invite_to_their_own_organisation(
    client: PortalClient, app: Flask, mailbox: Mailbox
) -> None:
    authority_id = make_authority(app)
    organisation_id = make_organisation(app, [authority_id])
    head = make_account(app, Role.ORGANISATION_ADMIN, organisation_id=organisation_id)
    sign_in(client, app, head)
    response = client.submit(
        f"/organisations/{organisation_id}/members/invite",
        {"full_name": "Dee Dsl", "email": "dsl@test.example", "roles": ["partner_member"]},
    )
    assert response.status_code == 302
    path = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    accept(app, path)
    with app.app_context():
        user = user_by_email("dsl@test.example")
        assert user is not None
        assert user.memberships[0].organisation_id == organisation_id
        assert user.memberships[0].role is Role.PARTNER_MEMBER


def test_two_requests_racing_with_one_link_create_one_account(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    """A double click: both requests read the invitation as unused; only one may win."""
    from portal.auth import invitations
    from portal.auth.links import LinkAlreadyUsedError

    invite(client, app, admin, mailbox)
    with app.app_context():
        stale = db.session.scalars(select(Invitation)).one()
        db.session.expunge(stale)
        db.session.rollback()
    with app.app_context():
        fresh = db.session.get(Invitation, stale.id)
        assert fresh
        invitations.accept_with_password(fresh, INVITEE_PASSWORD)
    with app.app_context(), pytest.raises((LinkAlreadyUsedError, invitations.InvitationError)):
        invitations.accept_with_password(stale, INVITEE_PASSWORD)
    with app.app_context():
        emails = [user.email for user in db.session.scalars(select(User))]
        assert emails.count(stale.email) == 1


def test_someone_who_lost_all_access_comes_back_by_invitation(
    client: PortalClient, app: Flask, admin: Account, mailbox: Mailbox
) -> None:
    """They cannot sign in (no active role anywhere), so the link, which proves the
    mailbox, lets them set a new password; their authenticator app is still needed."""
    authority_id = uuid.UUID(authority_of(app, admin))
    leaver = make_account(app, Role.LADO, authority_id=authority_id, email="back@test.example")
    with app.app_context():
        user = db.session.get(User, leaver.id)
        assert user
        user.memberships[0].deactivated_at = utcnow()
        db.session.commit()
    path = invite(client, app, admin, mailbox, email="back@test.example", roles=("lado_manager",))
    browser = app.test_client()
    browser.get(path)
    page = browser.get("/invitation").get_data(as_text=True)
    assert "Welcome back" in page
    response = browser.submit("/invitation", {"password": "ember-quartz-willow-64"})
    assert response.headers["Location"] == "/sign-in/security-code"
    assert leaver.totp_secret
    response = browser.submit(
        "/sign-in/security-code", {"code": fresh_code(app, leaver.id, leaver.totp_secret)}
    )
    assert response.headers["Location"] == "/"
    with app.app_context():
        user = db.session.get(User, leaver.id)
        assert user
        assert sorted(m.role.value for m in user.active_memberships) == ["lado_manager"]
