"""Sign-in throttling, counted in the database so the limit holds across workers.

Attempts are counted per account (by the e-mail address typed, whether or not an account
has it, so the limit cannot be used to find out who has an account) and per client
address. Both keys are pseudonymised with a keyed hash.

An attempt is written down *before* it is checked, and committed, so that requests
arriving at the same moment on several workers all see each other: the limit cannot be
overshot by racing it. A successful attempt then removes its own rows and the account's
earlier failures once the whole sign-in (password and code) has succeeded; a refused
(throttled) one removes its rows too, so that waiting out the five minutes is enough.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from portal.config import current_settings
from portal.extensions import db
from portal.models import SignInAttempt, ThrottleKey, normalise_email, utcnow
from portal.tokens import pseudonymise


def account_key(email: str) -> str:
    return pseudonymise(normalise_email(email), current_settings().secret_key, "sign-in-account")


def address_key(address: str) -> str:
    return pseudonymise(address, current_settings().secret_key, "client-address")


@dataclass(frozen=True)
class Attempt:
    account_hash: str
    row_ids: tuple[uuid.UUID, ...]
    allowed: bool


def attempt(account_hash: str, address_hash: str) -> Attempt:
    """Record an attempt (committed), then say whether it is within the limits."""
    now = utcnow()
    rows = [
        SignInAttempt(id=uuid.uuid4(), key_kind=kind, key_hash=key_hash, attempted_at=now)
        for kind, key_hash in (
            (ThrottleKey.ACCOUNT, account_hash),
            (ThrottleKey.ADDRESS, address_hash),
        )
    ]
    db.session.add_all(rows)
    db.session.commit()
    settings = current_settings()
    allowed = (
        _count(ThrottleKey.ACCOUNT, account_hash) <= settings.sign_in_attempts_per_account
        and _count(ThrottleKey.ADDRESS, address_hash) <= settings.sign_in_attempts_per_address
    )
    result = Attempt(account_hash, tuple(row.id for row in rows), allowed)
    if not allowed:
        _forget(result.row_ids)
        db.session.commit()
    return result


def passed(attempt: Attempt) -> None:
    """In the caller's transaction: an attempt that succeeded is not a failure. The
    account's earlier failures stay: a right password must not wipe wrong codes."""
    _forget(attempt.row_ids)


def signed_in(attempt: Attempt) -> None:
    """In the caller's transaction: the whole sign-in succeeded, so the account's earlier
    failures are forgotten too."""
    _forget(attempt.row_ids)
    clear_account(attempt.account_hash)


def _count(kind: ThrottleKey, key_hash: str) -> int:
    since = utcnow() - current_settings().sign_in_window
    return (
        db.session.scalar(
            select(func.count())
            .select_from(SignInAttempt)
            .where(
                SignInAttempt.key_kind == kind,
                SignInAttempt.key_hash == key_hash,
                SignInAttempt.attempted_at >= since,
            )
        )
        or 0
    )


def _forget(row_ids: tuple[uuid.UUID, ...]) -> None:
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.id.in_(row_ids)))


def clear_account(account_hash: str) -> None:
    """Forget an account's failures (a successful sign-in, a completed password reset)."""
    db.session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.key_kind == ThrottleKey.ACCOUNT, SignInAttempt.key_hash == account_hash
        )
    )


def purge_expired() -> int:
    cutoff = utcnow() - current_settings().sign_in_window
    result = db.session.execute(delete(SignInAttempt).where(SignInAttempt.attempted_at < cutoff))
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
