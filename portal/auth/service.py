"""Signing in, MFA, password changes and resets: the logic behind the auth views.

Each function is a unit of work: it writes its audit events (and e-mails, via the outbox)
in the same transaction and commits. Nothing here reads the request or ``current_user``;
the views pass the user and the pseudonymised client address in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, auto

from sqlalchemy import select

from portal import audit, notify
from portal.auth import mfa, passwords, throttle
from portal.config import current_settings
from portal.extensions import db
from portal.models import AuditKind, PasswordReset, User, normalise_email, utcnow
from portal.sessions import end_all_sessions_for
from portal.tokens import hash_token, new_token


class Outcome(Enum):
    OK = auto()
    WRONG = auto()  # wrong e-mail/password or code: one message for all of them
    THROTTLED = auto()
    INACTIVE = auto()


@dataclass(frozen=True)
class CheckResult:
    outcome: Outcome
    user: User | None = None


def user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def check_password(email: str, password: str, *, address_hash: str) -> CheckResult:
    """First factor. Counts failures; says nothing about whether the account exists."""
    account_hash = throttle.account_key(email)
    if throttle.is_throttled(account_hash, address_hash):
        audit.record(AuditKind.SIGN_IN_THROTTLED, address_hash=address_hash, stage="password")
        db.session.commit()
        return CheckResult(Outcome.THROTTLED)
    user = user_by_email(email)
    if not passwords.verify_password(user.password_hash if user else None, password):
        throttle.record_failure(account_hash, address_hash)
        audit.record(
            AuditKind.SIGN_IN_FAILED,
            target_user_id=user.id if user else None,
            address_hash=address_hash,
            reason="password" if user else "unknown_account",
        )
        db.session.commit()
        return CheckResult(Outcome.WRONG)
    if user is None or user.password_hash is None:  # verify_password refused these
        return CheckResult(Outcome.WRONG)
    if not user.is_active:
        audit.record(
            AuditKind.SIGN_IN_FAILED,
            target_user_id=user.id,
            address_hash=address_hash,
            reason="inactive",
        )
        db.session.commit()
        return CheckResult(Outcome.INACTIVE, user)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    db.session.commit()
    return CheckResult(Outcome.OK, user)


def check_second_factor(
    user: User, code: str, *, address_hash: str, recovery: bool = False
) -> Outcome:
    """Second factor at sign-in: an authenticator code, or one of the recovery codes."""
    outcome = confirm_code(user, code, address_hash=address_hash, recovery=recovery)
    if outcome is Outcome.OK:
        if recovery:
            audit.own_account(
                AuditKind.RECOVERY_CODE_USED,
                user.id,
                address_hash,
            )
        _signed_in(user, address_hash, method="recovery_code" if recovery else "totp")
    return outcome


def confirm_code(user: User, code: str, *, address_hash: str, recovery: bool = False) -> Outcome:
    """Check a code, once, under the sign-in throttle. Commits the code's use."""
    account_hash = throttle.account_key(user.email)
    if throttle.is_throttled(account_hash, address_hash):
        audit.record(
            AuditKind.SIGN_IN_THROTTLED,
            target_user_id=user.id,
            address_hash=address_hash,
            stage="mfa",
        )
        db.session.commit()
        return Outcome.THROTTLED
    accepted = mfa.consume_recovery_code(user, code) if recovery else mfa.consume_totp(user, code)
    if not accepted:
        db.session.rollback()
        throttle.record_failure(account_hash, address_hash)
        audit.record(
            AuditKind.MFA_FAILED,
            target_user_id=user.id,
            address_hash=address_hash,
            method="recovery_code" if recovery else "totp",
        )
        db.session.commit()
        return Outcome.WRONG
    db.session.commit()
    return Outcome.OK


def _signed_in(user: User, address_hash: str, *, method: str) -> None:
    throttle.clear_account(throttle.account_key(user.email))
    user.last_signed_in_at = utcnow()
    audit.own_account(
        AuditKind.SIGN_IN_SUCCEEDED,
        user.id,
        address_hash,
        method=method,
    )
    db.session.commit()


def save_authenticator(
    user: User, secret: str, code: str, *, address_hash: str
) -> list[str] | None:
    """Save a TOTP secret once a code from it is confirmed (first set-up, or a new phone);
    returns new recovery codes, or None if the code does not match the secret."""
    changing = user.mfa_enrolled
    if not mfa.consume_totp(user, code, secret=secret):
        db.session.rollback()
        throttle.record_failure(throttle.account_key(user.email), address_hash)
        db.session.commit()
        return None
    user.totp_secret = secret
    user.mfa_enrolled_at = utcnow()
    codes = mfa.replace_recovery_codes(user)
    audit.own_account(
        AuditKind.MFA_ENROLLED,
        user.id,
        address_hash,
        replaced_previous=changing,
    )
    if changing:
        db.session.commit()
    else:
        _signed_in(user, address_hash, method="enrolment")
    return codes


def regenerate_recovery_codes(user: User, *, address_hash: str) -> list[str]:
    codes = mfa.replace_recovery_codes(user)
    audit.own_account(
        AuditKind.RECOVERY_CODES_REGENERATED,
        user.id,
        address_hash,
    )
    db.session.commit()
    return codes


def record_sign_out(user: User, *, address_hash: str) -> None:
    audit.record(
        AuditKind.SIGNED_OUT, actor_id=user.id, target_user_id=user.id, address_hash=address_hash
    )
    db.session.commit()


def record_time_out(user_id: uuid.UUID, *, address_hash: str) -> None:
    audit.record(AuditKind.SESSION_TIMED_OUT, target_user_id=user_id, address_hash=address_hash)
    db.session.commit()


def set_password(user: User, new_password: str) -> None:
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()


def change_password(
    user: User, new_password: str, *, address_hash: str, current_session_token: str | None
) -> None:
    """The caller has checked the current password. Other sessions of the user end."""
    _replace_password(
        user,
        new_password,
        AuditKind.PASSWORD_CHANGED,
        address_hash,
        keep_session=current_session_token,
    )


def _replace_password(
    user: User,
    new_password: str,
    kind: AuditKind,
    address_hash: str,
    keep_session: str | None = None,
) -> None:
    """New password; every other session of the user ends; the user is told by e-mail."""
    set_password(user, new_password)
    end_all_sessions_for(user.id, keep_token=keep_session)
    audit.own_account(kind, user.id, address_hash)
    notify.queue_email(
        "password_changed", user.email, related_user_id=user.id, full_name=user.full_name
    )
    db.session.commit()


def request_password_reset(email: str, *, address_hash: str) -> None:
    """E-mail a one-time link if an active account has this address; do nothing visible
    otherwise (the page says the same either way)."""
    user = user_by_email(email)
    if user is None or not user.is_active:
        audit.record(
            AuditKind.PASSWORD_RESET_REQUESTED,
            address_hash=address_hash,
            result="no_active_account",
        )
        db.session.commit()
        return
    token = new_token()
    now = utcnow()
    reset = PasswordReset(
        token_hash=hash_token(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + current_settings().password_reset_lifetime,
    )
    db.session.add(reset)
    audit.record(
        AuditKind.PASSWORD_RESET_REQUESTED,
        target_user_id=user.id,
        address_hash=address_hash,
        result="sent",
    )
    notify.queue_email(
        "password_reset",
        user.email,
        related_user_id=user.id,
        full_name=user.full_name,
        link=notify.absolute_url("auth.open_password_reset", token=token),
        lifetime=_hours(current_settings().password_reset_lifetime.total_seconds()),
    )
    db.session.commit()


class LinkProblem(Enum):
    NOT_FOUND = auto()
    EXPIRED = auto()
    USED = auto()


def password_reset_for_token(token: str) -> PasswordReset | LinkProblem:
    reset = db.session.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    ).first()
    return _usable_reset(reset)


def password_reset_by_id(reset_id: uuid.UUID) -> PasswordReset | LinkProblem:
    return _usable_reset(db.session.get(PasswordReset, reset_id))


def _usable_reset(reset: PasswordReset | None) -> PasswordReset | LinkProblem:
    if reset is None:
        return LinkProblem.NOT_FOUND
    if reset.used_at is not None:
        return LinkProblem.USED
    if _expired(reset.expires_at):
        return LinkProblem.EXPIRED
    return reset


def _expired(expires_at: datetime) -> bool:
    return expires_at <= utcnow()


def complete_password_reset(reset: PasswordReset, new_password: str, *, address_hash: str) -> User:
    """Set the new password and end every session the user had: whoever knew the old
    password is signed out. The user still needs their authenticator to sign in."""
    user = reset.user
    reset.used_at = utcnow()
    _replace_password(user, new_password, AuditKind.PASSWORD_RESET, address_hash)
    return user


def _hours(seconds: float) -> str:
    hours = round(seconds / 3600)
    return "1 hour" if hours == 1 else f"{hours} hours"
