"""The outbox: written with the change, sent once, retried, scrubbed."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal import notify
from portal.extensions import db
from portal.models import OutboxMessage, OutboxStatus, utcnow


def queue(app: Flask, **personalisation: Any) -> None:
    with app.app_context(), app.test_request_context():
        notify.queue_email(
            "password_changed", "someone@test.example", full_name="Sam Someone", **personalisation
        )
        db.session.commit()


def messages(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        db.session.expunge_all()
        return list(rows)


def test_a_message_is_sent_once_and_its_body_cleared(
    app: Flask, sent_emails: list[dict[str, Any]]
) -> None:
    queue(app)
    with app.app_context():
        assert notify.deliver_pending() == 1
        assert notify.deliver_pending() == 0
    assert len(sent_emails) == 1
    assert "Sam Someone" in sent_emails[0]["body"]
    [message] = messages(app)
    assert message.status is OutboxStatus.SENT
    assert message.body is None
    assert message.sent_at is not None


def test_a_rolled_back_change_sends_nothing(app: Flask, sent_emails: list[dict[str, Any]]) -> None:
    with app.app_context(), app.test_request_context():
        notify.queue_email("password_changed", "someone@test.example", full_name="Sam")
        db.session.rollback()
        assert notify.deliver_pending() == 0
    assert sent_emails == []


class BrokenTransport:
    def send(self, message: OutboxMessage, settings: Any) -> None:
        raise ConnectionRefusedError("mail server down")


def test_failures_are_retried_then_given_up(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(notify.TRANSPORTS, "memory", BrokenTransport())
    queue(app)
    with app.app_context():
        for attempt in range(1, notify.MAX_ATTEMPTS + 1):
            assert notify.deliver_pending() == 0
            [message] = db.session.scalars(select(OutboxMessage)).all()
            assert message.attempts == attempt
            assert message.last_error == "ConnectionRefusedError"
        assert message.status is OutboxStatus.FAILED
        assert message.body is not None  # kept for an operator to resend


def test_a_message_claimed_by_a_dead_worker_goes_back_to_the_queue(
    app: Flask, sent_emails: list[dict[str, Any]]
) -> None:
    queue(app)
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        message.status = OutboxStatus.SENDING
        message.claimed_at = utcnow() - notify.CLAIM_TIMEOUT - notify.CLAIM_TIMEOUT
        db.session.commit()
        assert notify.deliver_pending() == 1
    assert len(sent_emails) == 1


def test_a_claimed_message_is_not_sent_by_another_worker(
    app: Flask, sent_emails: list[dict[str, Any]]
) -> None:
    queue(app)
    with app.app_context():
        message_id = db.session.scalars(select(OutboxMessage.id)).one()
        assert notify._claim(message_id)  # worker one
        assert not notify._claim(message_id)  # worker two
        assert notify.deliver_pending() == 0


def test_the_log_transport_masks_the_address(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    queue(app)
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        with caplog.at_level(logging.WARNING, logger="portal.notify"):
            notify.LogTransport().send(message, None)  # type: ignore[arg-type]
    assert "s***@test.example" in caplog.text
    assert "someone@test.example" not in caplog.text


def test_links_use_the_configured_address_not_the_host_header(app: Flask) -> None:
    with app.test_request_context(base_url="https://evil.example"):
        assert notify.absolute_url("auth.sign_in") == "https://portal.test/sign-in"


def test_emails_go_only_after_the_response_has_been_sent(
    app: Flask, sent_emails: list[dict[str, Any]]
) -> None:
    """A slow mail server must not slow the page down, which would tell a caller of
    "forgot password" that the address has an account."""
    import re

    from flask.testing import FlaskClient

    from portal.models import Role
    from tests.factories import make_account, make_authority

    account = make_account(app, Role.LADO, authority_id=make_authority(app))
    raw = FlaskClient(app, app.response_class, use_cookies=True)
    page = raw.get("/forgot-password", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = raw.post(
        "/forgot-password",
        base_url="https://localhost",
        data={"csrf_token": token, "email": account.email},
    )
    assert response.status_code == 302
    assert sent_emails == []  # the response is complete, the server has not closed it yet
    response.close()
    assert len(sent_emails) == 1
