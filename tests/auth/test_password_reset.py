"""Forgotten passwords: a one-time e-mailed link; the authenticator is still needed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import AuditEvent, PasswordReset, Role, WebSession, utcnow
from tests.client import PortalClient
from tests.conftest import Mailbox
from tests.factories import Account, fresh_code, make_account, make_authority, sign_in

LINK = re.compile(r"https://portal\.test(/reset-password/[A-Za-z0-9_-]+)")
NEW_PASSWORD = "velvet-compass-orchard-19"


@pytest.fixture
def lado(app: Flask) -> Account:
    return make_account(app, Role.LADO, authority_id=make_authority(app))


def ask_for_link(app: Flask, email: str) -> PortalClient:
    browser = app.test_client()
    response = browser.submit("/forgot-password", {"email": email})
    assert response.status_code == 302
    assert response.headers["Location"] == "/forgot-password/check-your-email"
    return browser  # type: ignore[return-value]


def test_reset_by_link_then_sign_in_with_the_new_password_and_a_code(
    app: Flask, lado: Account, mailbox: Mailbox
) -> None:
    browser = ask_for_link(app, lado.email.upper())  # any case of the address works
    email = mailbox.last()
    assert email["to"] == lado.email
    assert email["template"] == "password_reset"
    path = LINK.search(email["body"]).group(1)  # type: ignore[union-attr]

    response = browser.get(path)
    assert response.headers["Location"] == "/reset-password"  # the token leaves the URL
    response = browser.submit("/reset-password", {"password": NEW_PASSWORD})
    assert response.headers["Location"] == "/sign-in"
    assert mailbox.last()["template"] == "password_changed"

    old = browser.submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert "Enter a correct email address and password" in old.get_data(as_text=True)
    new = browser.submit("/sign-in", {"email": lado.email, "password": NEW_PASSWORD})
    assert new.headers["Location"] == "/sign-in/security-code"
    assert lado.totp_secret
    done = browser.submit(
        "/sign-in/security-code", {"code": fresh_code(app, lado.id, lado.totp_secret)}
    )
    assert done.headers["Location"] == "/"


def test_an_unknown_address_gets_the_same_page_and_no_email(app: Flask, mailbox: Mailbox) -> None:
    browser = ask_for_link(app, "nobody@test.example")
    page = browser.get("/forgot-password/check-your-email")
    assert "If the address you entered has an account" in page.get_data(as_text=True)
    assert mailbox.all() == []


def test_resetting_signs_the_user_out_everywhere(
    client: PortalClient, app: Flask, lado: Account, mailbox: Mailbox
) -> None:
    sign_in(client, app, lado)
    browser = ask_for_link(app, lado.email)
    path = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    browser.get(path)
    browser.submit("/reset-password", {"password": NEW_PASSWORD})
    assert client.get("/").status_code == 302
    with app.app_context():
        assert (
            db.session.scalars(select(WebSession).where(WebSession.user_id == lado.id)).first()
            is None
        )


def test_the_link_works_once(app: Flask, lado: Account, mailbox: Mailbox) -> None:
    browser = ask_for_link(app, lado.email)
    path = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    browser.get(path)
    browser.submit("/reset-password", {"password": NEW_PASSWORD})
    again = app.test_client().get(path)
    assert again.status_code == 404
    assert "already been used" in again.get_data(as_text=True)


def test_the_link_expires_after_an_hour(app: Flask, lado: Account, mailbox: Mailbox) -> None:
    ask_for_link(app, lado.email)
    path = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    with app.app_context():
        reset = db.session.scalars(select(PasswordReset)).one()
        assert reset.expires_at - reset.created_at == timedelta(hours=1)
        db.session.execute(update(PasswordReset).values(expires_at=utcnow()))
        db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert "has expired" in response.get_data(as_text=True)
    assert "Ask for a new link" in response.get_data(as_text=True)


def test_a_weak_new_password_is_explained(app: Flask, lado: Account, mailbox: Mailbox) -> None:
    browser = ask_for_link(app, lado.email)
    path = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    browser.get(path)
    response = browser.submit("/reset-password", {"password": "qwertyuiop12"})
    assert response.status_code == 200
    assert "harder to guess" in response.get_data(as_text=True) or "too common" in (
        response.get_data(as_text=True)
    )
    # The link still works after a mistake.
    assert browser.submit("/reset-password", {"password": NEW_PASSWORD}).status_code == 302


def test_the_reset_form_needs_a_link(app: Flask) -> None:
    response = app.test_client().get("/reset-password")
    assert response.status_code == 404


def test_the_email_and_log_carry_no_case_detail_and_the_audit_no_address(
    app: Flask, lado: Account, mailbox: Mailbox
) -> None:
    ask_for_link(app, lado.email)
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            assert lado.email not in repr(event.detail)


def test_two_requests_racing_with_one_reset_link(app: Flask, lado: Account) -> None:
    from portal.auth import links
    from portal.auth import resets as service

    ask_for_link(app, lado.email)
    with app.app_context():
        stale = db.session.scalars(select(PasswordReset)).one()
        db.session.expunge(stale)
        db.session.rollback()
    with app.app_context():
        fresh = db.session.get(PasswordReset, stale.id)
        assert fresh
        service.complete_password_reset(fresh, NEW_PASSWORD, address_hash="x")
    with app.app_context():
        stale = db.session.merge(stale, load=False)
        with pytest.raises(links.LinkAlreadyUsedError):
            service.complete_password_reset(stale, "another-password-entirely-7", address_hash="x")


def test_a_sign_in_half_done_before_a_reset_cannot_be_finished(
    app: Flask, lado: Account, mailbox: Mailbox
) -> None:
    """Someone with the old password is at the code step when the owner resets it."""
    intruder = app.test_client()
    intruder.submit("/sign-in", {"email": lado.email, "password": lado.password})
    owner = ask_for_link(app, lado.email)
    owner.get(LINK.search(mailbox.last()["body"]).group(1))  # type: ignore[union-attr]
    owner.submit("/reset-password", {"password": NEW_PASSWORD})
    assert lado.totp_secret
    # The half-done sign-in's session was deleted with the user's others: the code page
    # now has nothing to continue (and its form token died with the session).
    response = intruder.post_form(
        "/sign-in/security-code", {"code": fresh_code(app, lado.id, lado.totp_secret)}
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert intruder.get("/").status_code == 302


def test_a_reset_kills_the_other_links_and_forgets_the_failures(
    app: Flask, lado: Account, mailbox: Mailbox
) -> None:
    for _ in range(10):
        app.test_client().submit("/sign-in", {"email": lado.email, "password": "wrong-pass-12"})
    ask_for_link(app, lado.email)
    first = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    with app.app_context():  # a second link, as if asked for again later
        db.session.execute(update(PasswordReset).values(created_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    browser = ask_for_link(app, lado.email)
    second = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    assert first != second
    browser.get(second)
    browser.submit("/reset-password", {"password": NEW_PASSWORD})
    assert app.test_client().get(first).status_code == 404
    # The lock-out the sign-in page suggested resetting the password for is lifted.
    response = app.test_client().submit("/sign-in", {"email": lado.email, "password": NEW_PASSWORD})
    assert response.headers["Location"] == "/sign-in/security-code"


def test_one_email_per_five_minutes_however_often_asked(
    app: Flask, lado: Account, mailbox: Mailbox
) -> None:
    for _ in range(4):
        ask_for_link(app, lado.email)
    assert len(mailbox.all()) == 1


def test_a_deactivated_user_gets_no_reset(app: Flask, lado: Account, mailbox: Mailbox) -> None:
    ask_for_link(app, lado.email)
    path = LINK.search(mailbox.last()["body"]).group(1)  # type: ignore[union-attr]
    with app.app_context():
        from portal.models import Membership

        db.session.execute(update(Membership).values(deactivated_at=utcnow()))
        db.session.commit()
    assert app.test_client().get(path).status_code == 404
