"""Sign-in throttling, counted in the database so the limit holds across workers.

Failures are counted per account (by the e-mail address typed, whether or not an account
has it, so the limit cannot be used to find out who has an account) and per client
address. Both keys are pseudonymised with a keyed hash.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from portal.config import current_settings
from portal.extensions import db
from portal.models import SignInAttempt, ThrottleKey, normalise_email, utcnow
from portal.tokens import pseudonymise


def account_key(email: str) -> str:
    return pseudonymise(normalise_email(email), current_settings().secret_key, "sign-in-account")


def address_key(address: str) -> str:
    return pseudonymise(address, current_settings().secret_key, "client-address")


def _failures(kind: ThrottleKey, key_hash: str) -> int:
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


def is_throttled(account_hash: str, address_hash: str) -> bool:
    settings = current_settings()
    return (
        _failures(ThrottleKey.ACCOUNT, account_hash) >= settings.sign_in_attempts_per_account
        or _failures(ThrottleKey.ADDRESS, address_hash) >= settings.sign_in_attempts_per_address
    )


def record_failure(account_hash: str, address_hash: str) -> None:
    now = utcnow()
    db.session.add(
        SignInAttempt(key_kind=ThrottleKey.ACCOUNT, key_hash=account_hash, attempted_at=now)
    )
    db.session.add(
        SignInAttempt(key_kind=ThrottleKey.ADDRESS, key_hash=address_hash, attempted_at=now)
    )


def clear_account(account_hash: str) -> None:
    """A successful sign-in forgets the account's earlier failures."""
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
