"""The outbox: e-mails are written to a table in the same transaction as the change that
caused them, then delivered by a transport.

``flask outbox send --loop`` delivers them within a couple of seconds; ``flask outbox send``
does one pass (for cron, or to flush by hand). A message is claimed with a conditional
UPDATE before sending, so any number of workers never send it twice. Once sent, the body
is cleared: it may hold a one-time link.

E-mails never carry case detail: they say what happened and "sign in to read".
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from flask import current_app, has_request_context, render_template, url_for
from notifications_python_client.notifications import NotificationsAPIClient
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from portal.config import Settings, current_settings
from portal.extensions import db
from portal.models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A message claimed by a worker that then died goes back to the queue after this long.
CLAIM_TIMEOUT = timedelta(minutes=10)
MEMORY_OUTBOX = "portal.memory_outbox"


@dataclass(frozen=True)
class EmailTemplate:
    subject: str
    body_template: str


TEMPLATES = {
    "invitation": EmailTemplate(
        "You have been invited to the {service_name}", "email/invitation.txt"
    ),
    "invitation_existing_user": EmailTemplate(
        "You have been given access in the {service_name}", "email/invitation.txt"
    ),
    # To a subject: the council's name, never what the case is about.
    "subject_invitation": EmailTemplate(
        "{authority} has set up a way for you to read its updates",
        "email/subject_invitation.txt",
    ),
    "password_reset": EmailTemplate("Reset your password", "email/password_reset.txt"),
    "password_changed": EmailTemplate(
        "Your password has been changed", "email/password_changed.txt"
    ),
    "authenticator_changed": EmailTemplate(
        "Your authenticator app has been changed", "email/authenticator_changed.txt"
    ),
    "authenticator_reset": EmailTemplate(
        "Your authenticator app has been reset", "email/authenticator_reset.txt"
    ),
    # The reference only: never what the referral says.
    "referral_received": EmailTemplate(
        "Referral {reference} received", "email/referral_received.txt"
    ),
    "referral_update": EmailTemplate(
        "News about referral {reference}", "email/referral_update.txt"
    ),
    "case_transferred_in": EmailTemplate(
        "Case {reference} has been transferred to {to_authority}",
        "email/case_transferred_in.txt",
    ),
    # Meetings and requests: the reference and the date, never what the case is about.
    "meeting_invitation": EmailTemplate(
        "You are invited to a meeting about case {reference}", "email/meeting_invitation.txt"
    ),
    "information_request": EmailTemplate(
        "Information needed for a meeting about case {reference}",
        "email/information_request.txt",
    ),
    "meeting_actions": EmailTemplate(
        "Actions from the meeting about case {reference}", "email/meeting_actions.txt"
    ),
    "meeting_minutes": EmailTemplate(
        "Minutes of the meeting about case {reference}", "email/meeting_minutes.txt"
    ),
    # Which organisation needs someone added, never which case.
    "someone_needed": EmailTemplate(
        "{organisation} needs someone who can answer the LADO's requests",
        "email/someone_needed.txt",
    ),
    "update_published": EmailTemplate(
        "News from the LADO about case {reference}", "email/update_published.txt"
    ),
    "request_due_tomorrow": EmailTemplate(
        "Reminder: information for case {reference} is due by {due}",
        "email/request_due_tomorrow.txt",
    ),
    "request_overdue": EmailTemplate(
        "Overdue: information for case {reference}", "email/request_overdue.txt"
    ),
    "draft_expiring": EmailTemplate(
        "A draft referral will be deleted soon", "email/draft_expiring.txt"
    ),
}


class Transport(Protocol):
    def send(self, message: OutboxMessage, settings: Settings) -> None: ...


class LogTransport:
    """Development only (refused in production by config.py): write the message to the
    log, so one-time links can be followed locally. The recipient is masked; bodies hold
    only service wording and links, never case detail."""

    def send(self, message: OutboxMessage, settings: Settings) -> None:
        log.warning(
            "E-mail %s (%s) to %s\nSubject: %s\n\n%s",
            message.id,
            message.template,
            mask_address(message.recipient),
            message.subject,
            message.body,
        )


class MemoryTransport:
    """Tests: keep what would have been sent on the app, to read links from."""

    def send(self, message: OutboxMessage, settings: Settings) -> None:
        sent: list[dict[str, Any]] = current_app.extensions.setdefault(MEMORY_OUTBOX, [])
        sent.append(
            {
                "template": message.template,
                "to": message.recipient,
                "subject": message.subject,
                "body": message.body,
            }
        )


class SmtpTransport:
    def send(self, message: OutboxMessage, settings: Settings) -> None:
        email = EmailMessage()
        email["From"] = settings.mail_sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email.set_content(message.body or "")
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(email)


class NotifyTransport:
    """GOV.UK Notify, through its own client. Notify sends the portal's subject and body
    through one template ((subject)) / ((body)); the message id is the reference, so a
    message can be found in Notify's records without any personal data."""

    def send(self, message: OutboxMessage, settings: Settings) -> None:
        client = NotificationsAPIClient(
            settings.notify_api_key, base_url=settings.notify_base_url, timeout=30
        )
        client.send_email_notification(
            email_address=message.recipient,
            template_id=settings.notify_template_id,
            personalisation={"subject": message.subject, "body": message.body or ""},
            reference=str(message.id),
        )


TRANSPORTS: dict[str, Transport] = {
    "log": LogTransport(),
    "memory": MemoryTransport(),
    "smtp": SmtpTransport(),
    "notify": NotifyTransport(),
}


def mask_address(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link for an e-mail, on the configured public address (never the Host header,
    which a caller could forge to send someone a link to another site)."""
    settings = current_settings()
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return settings.base_url + path


def queue_email(
    template: str,
    recipient: str,
    *,
    related_user_id: uuid.UUID | None = None,
    **personalisation: Any,
) -> OutboxMessage:
    """Add an e-mail to the current transaction's outbox."""
    settings = current_settings()
    spec = TEMPLATES[template]
    context = {"service_name": settings.service_name, **personalisation}
    message = OutboxMessage(
        id=uuid.uuid4(),
        template=template,
        recipient=recipient,
        subject=spec.subject.format(**context),
        body=render_template(spec.body_template, **context),
        related_user_id=related_user_id,
    )
    db.session.add(message)
    return message


def deliver_pending(limit: int = 50) -> int:
    """Send pending messages; returns how many went. Safe to run in several processes."""
    settings = current_settings()
    transport = TRANSPORTS[settings.mail_transport]
    now = utcnow()
    # Give back messages whose sender died mid-send.
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at < now - CLAIM_TIMEOUT,
        )
        .values(status=OutboxStatus.PENDING)
    )
    db.session.commit()
    candidates = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.created_at)
        .limit(limit)
    ).all()
    sent = 0
    for message_id in candidates:
        if _claim(message_id):
            sent += _send(message_id, transport, settings)
    return sent


def _claim(message_id: uuid.UUID) -> bool:
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, claimed_at=utcnow())
    )
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _send(message_id: uuid.UUID, transport: Transport, settings: Settings) -> int:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return 0
    message.attempts += 1
    try:
        transport.send(message, settings)
    except Exception as error:  # any transport failure: record it, retry later
        message.last_error = type(error).__name__
        message.status = (
            OutboxStatus.FAILED if message.attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING
        )
        log.warning(
            "E-mail %s not sent (%s), attempt %d", message.id, message.last_error, message.attempts
        )
        db.session.commit()
        return 0
    message.status = OutboxStatus.SENT
    message.sent_at = utcnow()
    message.body = None
    db.session.commit()
    return 1


def run_worker(poll_seconds: float, stop: Callable[[], bool]) -> None:
    """Deliver the outbox until ``stop()`` says so: ``flask outbox send --loop``, a service of
    its own beside gunicorn. Requests never send e-mail themselves: a mail server's speed
    must neither slow pages nor show in their timing (which would tell a caller of
    "forgot password" whether an address has an account)."""
    while not stop():
        try:
            sent = deliver_pending()
        except OperationalError:  # the database is away; try again shortly
            db.session.rollback()
            log.warning("Outbox worker: database unavailable")
            sent = 0
        finally:
            db.session.remove()
        if not sent:
            _sleep_unless_stopped(poll_seconds, stop)


def _sleep_unless_stopped(seconds: float, stop: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop():
        time.sleep(min(0.2, seconds))
