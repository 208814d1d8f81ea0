"""Files (attachments, uploaded minutes) stored sealed in the database, in chunks.

The database rather than a disk: every instance behind the load balancer sees the same
files, one backup holds everything, and a file goes in the same transaction as the
record that refers to it, so neither can exist without the other. Only the sealed
bytes are here; the file's name and type belong to the record that refers to it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UUIDPrimaryKey, utcnow


class StoredFile(Base):
    __tablename__ = "stored_files"
    # A case's or an authority's files, found when it is destroyed or moved.
    __table_args__ = (Index("ix_stored_files_owner", "owner_kind", "owner_id"),)

    id: Mapped[UUIDPrimaryKey]
    # Whose data key seals it (see portal.crypto.keys.KeyOwner): a case's files go with
    # the case's key when it is destroyed.
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID]
    owner_authority_id: Mapped[uuid.UUID | None]
    size: Mapped[int] = mapped_column(BigInteger)  # bytes of plaintext
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFileChunk(Base):
    """Part n of a sealed file: part 0 is the header (which names the data key, read by
    rotation without decrypting), then one part per 64 KiB."""

    __tablename__ = "stored_file_chunks"

    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
