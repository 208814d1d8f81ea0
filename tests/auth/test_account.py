"""A user's own account: password, authenticator app, recovery codes."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, AuditKind, Role, User
from tests.auth.test_invitations import secret_on_page
from tests.client import PortalClient
from tests.conftest import Mailbox
from tests.factories import Account, fresh_code, make_account, make_authority, sign_in

CODE = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


@pytest.fixture
def lado(app: Flask) -> Account:
    return make_account(app, Role.LADO, authority_id=make_authority(app))


def kinds(app: Flask) -> list[AuditKind]:
    with app.app_context():
        return [event.kind for event in db.session.scalars(select(AuditEvent))]


def test_the_account_page_shows_the_person_and_their_security(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    sign_in(client, app, lado)
    body = client.get("/account").get_data(as_text=True)
    assert lado.email in body
    assert "Authenticator app" in body
    assert "Recovery codes" in body


def test_changing_the_password_keeps_this_session_and_ends_others(
    client: PortalClient, app: Flask, lado: Account, mailbox: Mailbox
) -> None:
    other_device = app.test_client()
    sign_in(other_device, app, lado)  # type: ignore[arg-type]
    sign_in(client, app, lado)
    response = client.submit(
        "/account/change-password",
        {"current_password": lado.password, "password": "velvet-compass-orchard-19"},
    )
    assert response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    assert mailbox.last()["template"] == "password_changed"
    assert AuditKind.PASSWORD_CHANGED in kinds(app)


def test_changing_the_password_needs_the_current_one(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    sign_in(client, app, lado)
    response = client.submit(
        "/account/change-password",
        {"current_password": "not-my-password", "password": "velvet-compass-orchard-19"},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Your current password is not right" in body
    assert "velvet-compass-orchard-19" not in body  # passwords are never sent back


def test_recovery_codes_sign_in_once_each(client: PortalClient, app: Flask, lado: Account) -> None:
    sign_in(client, app, lado)
    assert lado.totp_secret
    page = client.submit(
        "/account/recovery-codes", {"code": fresh_code(app, lado.id, lado.totp_secret)}
    )
    codes = CODE.findall(page.get_data(as_text=True))
    assert len(codes) == 10
    client.post_form("/sign-out")

    browser = app.test_client()
    browser.submit("/sign-in", {"email": lado.email, "password": lado.password})
    response = browser.submit("/sign-in/recovery-code", {"code": codes[0].upper()})
    assert response.headers["Location"] == "/"
    home = browser.get("/").get_data(as_text=True)
    assert "You have 9 left" in home
    browser.post_form("/sign-out")

    again = app.test_client()
    again.submit("/sign-in", {"email": lado.email, "password": lado.password})
    response = again.submit("/sign-in/recovery-code", {"code": codes[0]})
    assert "not right or has already been used" in response.get_data(as_text=True)
    assert AuditKind.RECOVERY_CODE_USED in kinds(app)


@pytest.mark.parametrize(
    ("code", "message"), [("", "Enter a recovery code"), ("abc", "10 letters and numbers")]
)
def test_recovery_code_form_errors(
    client: PortalClient, lado: Account, code: str, message: str
) -> None:
    client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    response = client.submit("/sign-in/recovery-code", {"code": code})
    assert message in response.get_data(as_text=True)


def test_new_recovery_codes_replace_the_old(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    sign_in(client, app, lado)
    assert lado.totp_secret
    first = CODE.findall(
        client.submit(
            "/account/recovery-codes", {"code": fresh_code(app, lado.id, lado.totp_secret)}
        ).get_data(as_text=True)
    )
    second = CODE.findall(
        client.submit(
            "/account/recovery-codes", {"code": fresh_code(app, lado.id, lado.totp_secret)}
        ).get_data(as_text=True)
    )
    assert len(second) == 10
    assert not set(first) & set(second)
    client.post_form("/sign-out")
    browser = app.test_client()
    browser.submit("/sign-in", {"email": lado.email, "password": lado.password})
    response = browser.submit("/sign-in/recovery-code", {"code": first[0]})
    assert response.status_code == 200  # the old codes no longer work


def test_moving_to_a_new_phone(client: PortalClient, app: Flask, lado: Account) -> None:
    sign_in(client, app, lado)
    page = client.get("/account/change-authenticator").get_data(as_text=True)
    new_secret = secret_on_page(page)
    assert new_secret != lado.totp_secret
    response = client.submit(
        "/account/change-authenticator",
        {"code": pyotp.TOTP(new_secret).now(), "current_password": "wrong-password"},
    )
    assert "Your current password is not right" in response.get_data(as_text=True)
    response = client.submit(
        "/account/change-authenticator",
        {"code": fresh_code(app, lado.id, new_secret), "current_password": lado.password},
    )
    assert response.status_code == 200
    assert "Your authenticator app has been changed" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, lado.id)
        assert user
        assert user.totp_secret == new_secret
    assert AuditKind.MFA_ENROLLED in kinds(app)


def test_moving_to_a_new_phone_signs_out_elsewhere_and_tells_the_user(
    client: PortalClient, app: Flask, lado: Account, mailbox: Mailbox
) -> None:
    other_device = app.test_client()
    sign_in(other_device, app, lado)  # type: ignore[arg-type]
    sign_in(client, app, lado)
    new_secret = secret_on_page(client.get("/account/change-authenticator").get_data(as_text=True))
    client.submit(
        "/account/change-authenticator",
        {"code": fresh_code(app, lado.id, new_secret), "current_password": lado.password},
    )
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    assert mailbox.last()["template"] == "authenticator_changed"


def test_password_confirmations_are_throttled(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    sign_in(client, app, lado)
    for _ in range(10):
        client.submit(
            "/account/change-password",
            {"current_password": "guess-guess-1", "password": "velvet-compass-orchard-19"},
        )
    response = client.submit(
        "/account/change-password",
        {"current_password": lado.password, "password": "velvet-compass-orchard-19"},
    )
    assert "too many attempts" in response.get_data(as_text=True)
