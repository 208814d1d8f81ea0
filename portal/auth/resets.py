"""Password reset by a one-time e-mailed link.

The same link, with a longer life, lets someone whose authenticator app an administrator
has reset prove they hold the mailbox before they set a new password and a new app.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from portal import audit, notify
from portal.auth import throttle
from portal.auth.links import LinkProblem, expired, find_by_token, use_once
from portal.auth.service import replace_password, user_by_email
from portal.config import current_settings
from portal.extensions import db
from portal.models import AuditKind, PasswordReset, User, utcnow
from portal.tokens import hash_token, new_token, pseudonymise

# However often "forgot password" is asked for, one account gets at most one e-mail in
# this long (the page says the same either way).
REQUEST_INTERVAL = timedelta(minutes=5)


def request_password_reset(email: str, *, address_hash: str) -> None:
    """E-mail a one-time link if an active account has this address; do nothing visible
    otherwise. Requests are limited per address typed and per client address."""
    settings = current_settings()
    # Counted apart from sign-ins: an office sharing one address does not lose its
    # sign-in allowance to reset requests, and the other way round.
    request_key = pseudonymise(email.strip().lower(), settings.secret_key, "password-reset")
    address_key = pseudonymise(address_hash, settings.secret_key, "password-reset-address")
    allowed = throttle.attempt(request_key, address_key).allowed
    user = user_by_email(email)
    if not allowed or user is None or not user.is_active or _recently_sent(user):
        audit.record(
            AuditKind.PASSWORD_RESET_REQUESTED,
            target_user_id=user.id if user else None,
            address_hash=address_hash,
            result="not_sent",
        )
        db.session.commit()
        return
    send_link(user, "password_reset", settings.password_reset_lifetime)
    audit.record(
        AuditKind.PASSWORD_RESET_REQUESTED,
        target_user_id=user.id,
        address_hash=address_hash,
        result="sent",
    )
    db.session.commit()


def _recently_sent(user: User) -> bool:
    since = utcnow() - REQUEST_INTERVAL
    return (
        db.session.scalars(
            select(PasswordReset.id).where(
                PasswordReset.user_id == user.id,
                PasswordReset.used_at.is_(None),
                PasswordReset.created_at >= since,
            )
        ).first()
        is not None
    )


def send_link(user: User, template: str, lifetime: timedelta) -> None:
    """Queue an e-mail with a new one-time link, in the caller's transaction."""
    token = new_token()
    now = utcnow()
    db.session.add(
        PasswordReset(
            token_hash=hash_token(token), user_id=user.id, created_at=now, expires_at=now + lifetime
        )
    )
    notify.queue_email(
        template,
        user.email,
        related_user_id=user.id,
        full_name=user.full_name,
        link=notify.absolute_url("auth.open_password_reset", token=token),
        lifetime=_duration(lifetime),
    )


def password_reset_for_token(token: str) -> PasswordReset | LinkProblem:
    return _usable(find_by_token(PasswordReset, token))


def password_reset_by_id(reset_id: uuid.UUID) -> PasswordReset | LinkProblem:
    return _usable(db.session.get(PasswordReset, reset_id))


def _usable(reset: PasswordReset | None) -> PasswordReset | LinkProblem:
    if reset is None or not reset.user.is_active:
        return LinkProblem.NOT_FOUND
    if reset.used_at is not None:
        return LinkProblem.USED
    if expired(reset.expires_at):
        return LinkProblem.EXPIRED
    return reset


def complete_password_reset(reset: PasswordReset, new_password: str, *, address_hash: str) -> User:
    """Set the new password and end every session the user had: whoever knew the old
    password is signed out. The user still needs their authenticator to sign in (or sets
    one up, if an administrator reset it)."""
    user = reset.user
    use_once(PasswordReset.used_at, reset.id)
    replace_password(user, new_password, AuditKind.PASSWORD_RESET, address_hash)
    db.session.commit()
    return user


def _duration(lifetime: timedelta) -> str:
    hours = round(lifetime.total_seconds() / 3600)
    return "1 hour" if hours == 1 else f"{hours} hours"
