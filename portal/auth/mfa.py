"""TOTP (RFC 6238) authenticator codes and one-time recovery codes.

A TOTP code is accepted for the current 30-second step and one step either side (clock
drift), and only once: the accepted step is stored and a conditional UPDATE refuses any
step not later than it, which also holds when two workers see the same code at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, or_, update

from portal.extensions import db
from portal.models import RecoveryCode, User, utcnow

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10  # 10 characters from 31: about 49.5 bits each
DRIFT_STEPS = 1
# ASCII digits only: \d would also match other scripts' digits, which no app shows.
CODE_PATTERN = re.compile(r"^[0-9]{6}$", re.ASCII)


def new_totp_secret() -> str:
    return pyotp.random_base32(length=32)  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer))


def qr_code_svg(uri: str, label: str) -> Markup:
    """The QR code as inline SVG, made on the server (no third-party image service)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4)
    # segno writes only a path drawn from the encoded bits, so this markup cannot carry
    # user text; it is marked up as an image with our label for screen readers.
    accessible = Markup('<svg role="img" aria-label="{}" ').format(label)
    return Markup(svg.replace("<svg ", accessible, 1))  # noqa: S704 (see above)


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "")


def is_well_formed_code(code: str) -> bool:
    return bool(CODE_PATTERN.match(normalise_code(code)))


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time-step the code belongs to, or None."""
    code = normalise_code(code)
    if not CODE_PATTERN.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.fromtimestamp(time.time() if at is None else at, UTC))
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def consume_totp(user: User, code: str, secret: str | None = None) -> bool:
    """Accept the code once. ``secret`` is the one being enrolled, if not yet saved."""
    secret = secret or user.totp_secret
    if secret is None:
        return False
    step = matching_step(secret, code)
    if step is None:
        return False
    result = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_counter.is_(None), User.totp_last_counter < step),
        )
        .values(totp_last_counter=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False  # this code, or a later one, has already been used
    user.totp_last_counter = step
    return True


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).lower().encode()).hexdigest()


def replace_recovery_codes(user: User) -> list[str]:
    """Ten new codes for the user, replacing any old ones. Shown once, stored hashed."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(raw)))
    return codes


def consume_recovery_code(user: User, code: str) -> bool:
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def unused_recovery_codes(user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)
