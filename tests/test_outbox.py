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
from tests.conftest import Mailbox


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


def test_a_message_is_sent_once_and_its_body_cleared(app: Flask, mailbox: Mailbox) -> None:
    queue(app)
    with app.app_context():
        assert notify.deliver_pending() == 1
        assert notify.deliver_pending() == 0
    assert len(mailbox.all()) == 1
    assert "Sam Someone" in mailbox.all()[0]["body"]
    [message] = messages(app)
    assert message.status is OutboxStatus.SENT
    assert message.body is None
    assert message.sent_at is not None


def test_a_rolled_back_change_sends_nothing(app: Flask, mailbox: Mailbox) -> None:
    with app.app_context(), app.test_request_context():
        notify.queue_email("password_changed", "someone@test.example", full_name="Sam")
        db.session.rollback()
        assert notify.deliver_pending() == 0
    assert mailbox.all() == []


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
    app: Flask, mailbox: Mailbox
) -> None:
    queue(app)
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        message.status = OutboxStatus.SENDING
        message.claimed_at = utcnow() - notify.CLAIM_TIMEOUT - notify.CLAIM_TIMEOUT
        db.session.commit()
        assert notify.deliver_pending() == 1
    assert len(mailbox.all()) == 1


def test_a_claimed_message_is_not_sent_by_another_worker(app: Flask, mailbox: Mailbox) -> None:
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


def test_requests_never_send_email_themselves(app: Flask, mailbox: Mailbox) -> None:
    """The worker sends it. A slow mail server must not slow a page down, which would tell
    a caller of "forgot password" that the address has an account."""
    from portal.models import Role
    from tests.factories import make_account, make_authority

    account = make_account(app, Role.LADO, authority_id=make_authority(app))
    response = app.test_client().submit("/forgot-password", {"email": account.email})
    assert response.status_code == 302
    assert app.extensions["portal.memory_outbox"] == []  # nothing went during the request
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).one().status is OutboxStatus.PENDING
    assert len(mailbox.all()) == 1  # the worker's next pass sends it


def test_the_worker_sends_until_told_to_stop(app: Flask) -> None:
    queue(app)
    queue(app)
    passes = []

    def stop() -> bool:
        passes.append(1)
        return len(passes) > 2

    with app.app_context():
        notify.run_worker(poll_seconds=0.01, stop=stop)
    assert len(app.extensions["portal.memory_outbox"]) == 2
    assert all(message.status is OutboxStatus.SENT for message in messages(app))
