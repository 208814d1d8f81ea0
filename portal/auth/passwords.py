"""Password hashing (Argon2id) and the password policy.

Policy, after the NCSC's advice: length (12 to 128 characters) and a deny-list, no
composition rules. The deny-list is zxcvbn's bundled list of the 30,000 passwords most
seen in breaches, plus zxcvbn's estimate, which also catches keyboard walks, repeats,
dates and passwords built from the person's own name or e-mail address.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.config import current_settings

MIN_LENGTH = 12
MAX_LENGTH = 128
# zxcvbn's effort grows with length; the first 72 characters decide whether a password
# is guessable, and capping keeps a 128-character password from costing 300 ms of CPU.
ESTIMATE_LENGTH = 72
MIN_SCORE = 3  # zxcvbn 0..4: 3 is "safely unguessable: moderate protection offline"
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


@cache
def _hasher(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, profile))


@cache
def _dummy_hash(profile: str) -> str:
    return _hasher(profile).hash("not a password anyone has")


def hash_password(password: str) -> str:
    return _hasher(current_settings().password_hash_profile).hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists: an unknown e-mail address still
    costs one Argon2 verification, so timing does not reveal who has an account."""
    profile = current_settings().password_hash_profile
    try:
        return _hasher(profile).verify(password_hash or _dummy_hash(profile), password) and (
            password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher(current_settings().password_hash_profile).check_needs_rehash(password_hash)


def password_problem(password: str, *, personal: Iterable[str] = ()) -> str | None:
    """What is wrong with a new password, in GOV.UK wording; None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    if password.lower() in COMMON_PASSWORDS:
        return "This password is too common. Choose a password that is harder to guess"
    squashed = _letters_and_digits(password)
    if any(len(piece) >= 4 and piece in squashed for piece in _personal_pieces(personal)):
        return "Your password must not contain your name or email address"
    words = [part for value in personal for part in _words(value)]
    estimate = zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=words, max_length=ESTIMATE_LENGTH)
    if estimate["score"] < MIN_SCORE:
        warning = estimate["feedback"]["warning"]
        advice = f" ({warning.rstrip('.')})" if warning else ""
        return f"Choose a password that is harder to guess, for example 3 random words{advice}"
    return None


def _letters_and_digits(value: str) -> str:
    return "".join(character for character in value.lower() if character.isalnum())


def _personal_pieces(personal: Iterable[str]) -> list[str]:
    """The person's e-mail name, whole name, and each long part of their name."""
    pieces = []
    for value in personal:
        local = value.split("@", 1)[0]
        pieces.append(_letters_and_digits(local))
        pieces.extend(_letters_and_digits(word) for word in local.replace(".", " ").split())
    return pieces


def _words(value: str) -> list[str]:
    cleaned = "".join(character if character.isalnum() else " " for character in value)
    return [word for word in cleaned.lower().split() if len(word) > 2]
