"""Data keys, stored wrapped: the database never holds a key it could open by itself."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, unique_where, utcnow


class DataKey(Base):
    __tablename__ = "data_keys"
    __table_args__ = (
        # One primary key per owner: two workers creating one at once cannot both win.
        unique_where("uq_data_keys_primary", "owner_kind", "owner_id", where="state = 'primary'"),
        Index("ix_data_keys_owner", "owner_kind", "owner_id"),
    )

    # The 4-byte key id written into every value sealed under this key.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner_kind: Mapped[str] = mapped_column(String(20))  # deployment | authority | case
    owner_id: Mapped[uuid.UUID]
    # A case key's authority: the key that wraps it belongs to that authority.
    owner_authority_id: Mapped[uuid.UUID | None]
    wrapped_by: Mapped[str] = mapped_column(String(10))  # kek | data
    wrapper_id: Mapped[int] = mapped_column(BigInteger)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once destroyed
    sentinel: Mapped[bytes | None] = mapped_column(LargeBinary)
    # primary | decrypt_only | retired (no longer needed) | destroyed (crypto-shredded)
    state: Mapped[str] = mapped_column(String(20))
    # A case key's retention month (year * 12 + month - 1): it is wrapped under that
    # month's key from the keyring's retention ratchet too (portal/crypto/keyring.py).
    retention_month: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    destroyed_at: Mapped[datetime | None]
