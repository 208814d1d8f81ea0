"""Signing in, MFA and the user's own account: the logic behind the auth views.

Each function is a unit of work: it writes its audit events (and e-mails, via the outbox)
in the same transaction and commits. Nothing here reads the request or ``current_user``;
the views pass the user and the pseudonymised client address in. Every check of a
password or a code, at sign-in or on the account pages, goes through the throttle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from sqlalchemy import update

from portal import audit, keystore, notify
from portal.auth import mfa, passwords, throttle
from portal.extensions import db
from portal.models import AuditKind, PasswordReset, User, utcnow
from portal.sessions import end_all_sessions_for


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
    """Through the e-mail blind index: no account's address is decrypted to find one,
    except the match itself, which is confirmed."""
    found = keystore.find(User, User.__blind_indexes__[0], email=email)
    return found[0] if found else None


def check_password(email: str, password: str, *, address_hash: str) -> CheckResult:
    """First factor. Counts the attempt; says nothing about whether the account exists."""
    attempt = throttle.attempt(throttle.account_key(email), address_hash)
    user = user_by_email(email)
    if not attempt.allowed:
        _note(AuditKind.SIGN_IN_THROTTLED, user, address_hash, stage="password")
        return CheckResult(Outcome.THROTTLED)
    if user is None or not passwords.verify_password(user.password_hash, password):
        if user is None:
            passwords.verify_password(None, password)  # the same work as for an account
        _note(
            AuditKind.SIGN_IN_FAILED,
            user,
            address_hash,
            reason="password" if user else "unknown_account",
        )
        return CheckResult(Outcome.WRONG)
    if not user.is_active:
        _note(AuditKind.SIGN_IN_FAILED, user, address_hash, reason="inactive")
        return CheckResult(Outcome.INACTIVE, user)
    throttle.passed(attempt)
    if user.password_hash and passwords.needs_rehash(user.password_hash):
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
            audit.own_account(AuditKind.RECOVERY_CODE_USED, user.id, address_hash)
        _signed_in(user, address_hash, method="recovery_code" if recovery else "totp")
    return outcome


def confirm_code(user: User, code: str, *, address_hash: str, recovery: bool = False) -> Outcome:
    """Check a code, once, under the throttle. Commits the code's use."""
    attempt = throttle.attempt(throttle.account_key(user.email), address_hash)
    if not attempt.allowed:
        _note(AuditKind.SIGN_IN_THROTTLED, user, address_hash, stage="mfa")
        return Outcome.THROTTLED
    accepted = mfa.consume_recovery_code(user, code) if recovery else mfa.consume_totp(user, code)
    if not accepted:
        db.session.rollback()
        _note(
            AuditKind.MFA_FAILED, user, address_hash, method="recovery_code" if recovery else "totp"
        )
        return Outcome.WRONG
    throttle.signed_in(attempt)
    db.session.commit()
    return Outcome.OK


def confirm_password(user: User, password: str, *, address_hash: str) -> Outcome:
    """The current password, asked again before a change to the account."""
    attempt = throttle.attempt(throttle.account_key(user.email), address_hash)
    if not attempt.allowed:
        _note(AuditKind.SIGN_IN_THROTTLED, user, address_hash, stage="password_confirmation")
        return Outcome.THROTTLED
    if not passwords.verify_password(user.password_hash, password):
        _note(AuditKind.SIGN_IN_FAILED, user, address_hash, reason="password_confirmation")
        return Outcome.WRONG
    throttle.passed(attempt)
    db.session.commit()
    return Outcome.OK


def _note(kind: AuditKind, user: User | None, address_hash: str, **detail: Any) -> None:
    """Audit a refused or failed check, and commit (the attempt is already counted)."""
    audit.record(
        kind, target_user_id=user.id if user else None, address_hash=address_hash, **detail
    )
    db.session.commit()


def _signed_in(user: User, address_hash: str, *, method: str) -> None:
    user.last_signed_in_at = utcnow()
    audit.own_account(AuditKind.SIGN_IN_SUCCEEDED, user.id, address_hash, method=method)
    db.session.commit()


def save_authenticator(
    user: User,
    secret: str,
    code: str,
    *,
    address_hash: str,
    current_session_token: str | None = None,
) -> list[str] | Outcome:
    """Save a TOTP secret once a code from it is confirmed (first set-up, or a new phone);
    returns new recovery codes, or why not (the code does not match, or too many tries).

    Moving to a new phone ends the user's other sessions and tells them by e-mail."""
    attempt = throttle.attempt(throttle.account_key(user.email), address_hash)
    if not attempt.allowed:
        return Outcome.THROTTLED
    if not mfa.consume_totp(user, code, secret=secret):
        db.session.rollback()
        return Outcome.WRONG
    throttle.signed_in(attempt)
    changing = user.mfa_enrolled
    user.totp_secret = secret
    user.mfa_enrolled_at = utcnow()
    codes = mfa.replace_recovery_codes(user)
    audit.own_account(AuditKind.MFA_ENROLLED, user.id, address_hash, replaced_previous=changing)
    if changing:
        end_all_sessions_for(user.id, keep_token=current_session_token)
        notify.queue_email(
            "authenticator_changed", user.email, related_user_id=user.id, full_name=user.full_name
        )
        db.session.commit()
    else:
        _signed_in(user, address_hash, method="enrolment")
    return codes


def regenerate_recovery_codes(user: User, *, address_hash: str) -> list[str]:
    codes = mfa.replace_recovery_codes(user)
    audit.own_account(AuditKind.RECOVERY_CODES_REGENERATED, user.id, address_hash)
    db.session.commit()
    return codes


def record_sign_out(user: User, *, address_hash: str) -> None:
    audit.own_account(AuditKind.SIGNED_OUT, user.id, address_hash)
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
    """The caller has confirmed the current password. Other sessions of the user end."""
    replace_password(
        user,
        new_password,
        AuditKind.PASSWORD_CHANGED,
        address_hash,
        keep_session=current_session_token,
    )
    db.session.commit()


def replace_password(
    user: User,
    new_password: str,
    kind: AuditKind,
    address_hash: str | None,
    keep_session: str | None = None,
) -> None:
    """New password; every other session ends, every outstanding reset link dies, the
    account's sign-in failures are forgotten, and the user is told by e-mail. In the
    caller's transaction."""
    set_password(user, new_password)
    end_all_sessions_for(user.id, keep_token=keep_session)
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    throttle.clear_account(throttle.account_key(user.email))
    audit.own_account(kind, user.id, address_hash)
    notify.queue_email(
        "password_changed", user.email, related_user_id=user.id, full_name=user.full_name
    )
