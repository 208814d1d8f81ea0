"""Failed sign-in attempts, counted in the database so every worker sees the same count."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UUIDPrimaryKey, enum_column


class ThrottleKey(StrEnum):
    ACCOUNT = "account"  # keyed by the e-mail typed, known account or not
    ADDRESS = "address"  # keyed by the client's IP address


class SignInAttempt(Base):
    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_lookup", "key_kind", "key_hash", "attempted_at"),)

    id: Mapped[UUIDPrimaryKey]
    key_kind: Mapped[ThrottleKey] = enum_column(ThrottleKey)
    # HMAC of the e-mail or address: counts without storing who or where in clear.
    key_hash: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime]
