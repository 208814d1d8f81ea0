"""Random tokens for links and sessions, and keyed digests that pseudonymise values."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 random bits, URL-safe: unguessable for one-time links and session cookies."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored only as digests: a copy of the database opens no link or session."""
    return hashlib.sha256(token.encode()).hexdigest()


def pseudonymise(value: str, secret_key: str, purpose: str) -> str:
    """HMAC-SHA256 of a value under a key derived for one purpose.

    Lets the portal count or link by e-mail address or IP address without storing either.
    """
    key = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
