"""Blind index entries: keyed digests of normalised values, one row per value, index key
and owner row. Kept out of the owners' tables so the index key can rotate (write under
both keys, then drop the old) without new columns, and a person's entries go with them."""

from __future__ import annotations

import uuid

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, unique_where


class BlindIndexEntry(Base):
    __tablename__ = "blind_indexes"
    __table_args__ = (
        # owner_id too, so a look-up is answered from the index alone.
        Index("ix_blind_indexes_lookup", "kind", "index_key_id", "digest", "owner_id"),
        # Whole digests of unique values (account e-mails) cannot repeat under one key.
        unique_where(
            "uq_blind_indexes_unique", "kind", "index_key_id", "digest", where="is_unique"
        ),
    )

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    index_key_id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    is_unique: Mapped[bool] = mapped_column(default=False)
