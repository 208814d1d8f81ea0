"""The outbox's senders: GOV.UK Notify through its own client (against a stand-in for
its API on 127.0.0.1, which checks the signed token as Notify does), and two senders
working the same outbox at once, each message going exactly once."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import select

from portal import notify
from portal.extensions import db
from portal.models import OutboxMessage, OutboxStatus
from tests.test_outbox import queue

SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
API_KEY = f"lado_portal_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = str(uuid.uuid4())


class NotifyStandIn(BaseHTTPRequestHandler):
    """Answers POST /v2/notifications/email as Notify does; refuses a bad token, and
    fails on demand."""

    received: list[dict[str, Any]] = []
    failing = False

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            self._answer(403, {"errors": [{"error": "AuthError"}]})
            return
        if claims.get("iss") != SERVICE_ID or self.path != "/v2/notifications/email":
            self._answer(403, {"errors": [{"error": "AuthError"}]})
            return
        if NotifyStandIn.failing:
            self._answer(500, {"errors": [{"error": "Exception"}]})
            return
        NotifyStandIn.received.append(body)
        self._answer(201, {"id": str(uuid.uuid4()), "reference": body.get("reference")})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def notify_api() -> Iterator[str]:
    NotifyStandIn.received = []
    NotifyStandIn.failing = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotifyStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _notifying(make_app: Callable[..., Flask], notify_api: str, api_key: str = API_KEY) -> Flask:
    return make_app(
        mail_transport="notify",
        notify_api_key=api_key,
        notify_template_id=TEMPLATE_ID,
        notify_base_url=notify_api,
    )


def test_notify_sends_the_subject_and_body_through_one_template(
    make_app: Callable[..., Flask], notify_api: str
) -> None:
    app = _notifying(make_app, notify_api)
    queue(app)
    with app.app_context():
        message_id = db.session.scalars(select(OutboxMessage.id)).one()
        assert notify.deliver_pending() == 1
        assert db.session.get_one(OutboxMessage, message_id).status is OutboxStatus.SENT
    [sent] = NotifyStandIn.received
    assert sent["email_address"] == "someone@test.example"
    assert sent["template_id"] == TEMPLATE_ID
    assert sent["reference"] == str(message_id)  # found in Notify without personal data
    assert sent["personalisation"]["subject"] == "Your password has been changed"
    assert "Sam Someone" in sent["personalisation"]["body"]


def test_notify_failing_leaves_the_message_to_retry(
    make_app: Callable[..., Flask], notify_api: str
) -> None:
    app = _notifying(make_app, notify_api)
    queue(app)
    NotifyStandIn.failing = True
    with app.app_context():
        assert notify.deliver_pending() == 0
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status is OutboxStatus.PENDING
        assert message.attempts == 1
        assert message.last_error == "HTTPError"
    NotifyStandIn.failing = False
    with app.app_context():
        assert notify.deliver_pending() == 1
    assert len(NotifyStandIn.received) == 1


def test_a_wrong_notify_key_is_refused_and_retried(
    make_app: Callable[..., Flask], notify_api: str
) -> None:
    app = _notifying(make_app, notify_api, api_key=f"wrong-{SERVICE_ID}-{uuid.uuid4()}")
    queue(app)
    with app.app_context():
        assert notify.deliver_pending() == 0
        assert db.session.scalars(select(OutboxMessage)).one().status is OutboxStatus.PENDING
    assert NotifyStandIn.received == []


def test_two_senders_at_once_send_each_message_exactly_once(
    app: Flask, make_app: Callable[..., Flask]
) -> None:
    """Two processes' worth of senders (two apps, two connection pools) on one outbox."""
    with app.app_context(), app.test_request_context():
        for number in range(60):
            notify.queue_email(
                "password_changed", f"person{number}@test.example", full_name="Sam Someone"
            )
        db.session.commit()
    senders = [make_app(), make_app()]
    errors: list[BaseException] = []
    start = threading.Barrier(len(senders))

    def work(sender: Flask) -> None:
        try:
            start.wait()
            with sender.app_context():
                while notify.deliver_pending(limit=5):
                    pass
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    sent = [message for sender in senders for message in sender.extensions[notify.MEMORY_OUTBOX]]
    assert len(sent) == 60
    assert len({message["to"] for message in sent}) == 60  # none twice
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert {row.status for row in rows} == {OutboxStatus.SENT}
        assert all(row.attempts == 1 for row in rows)
