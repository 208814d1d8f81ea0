"""Keeping records as long as the rules say and no longer: legal holds, and destruction
batches proposed by one LADO manager and approved by another (portal/destruction.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.crypto.fields import TEXT, encrypted
from portal.models.base import Base, CreatedAt, UUIDPrimaryKey
from portal.models.case import CASE_OWNER


class LegalHold(Base):
    """A case that must not be destroyed (litigation, an inquiry, a police request),
    whatever its retention date, until the hold is lifted."""

    __tablename__ = "legal_holds"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (Index("ix_legal_holds_case", "case_id", "lifted_at"),)

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    reason = encrypted(TEXT, max_length=2000)  # required on the form
    set_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[CreatedAt]
    lifted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None]


class DestructionBatch(Base):
    """Cases past their retention date, proposed for destruction by one LADO manager;
    another approves it, and ``flask retention run`` destroys them."""

    __tablename__ = "destruction_batches"
    __table_args__ = (Index("ix_destruction_batches_authority", "authority_id", "proposed_at"),)

    id: Mapped[UUIDPrimaryKey]
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    proposed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[CreatedAt]
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None]
    # Set when the run has dealt with every case in it.
    done_at: Mapped[datetime | None]

    items: Mapped[list[DestructionItem]] = relationship(
        back_populates="batch", order_by="DestructionItem.reference"
    )

    @property
    def state(self) -> str:
        if self.withdrawn_at:
            return "withdrawn"
        if self.done_at:
            return "done"
        return "approved" if self.approved_at else "proposed"


class DestructionItem(Base):
    """One case in a batch, and what became of it."""

    __tablename__ = "destruction_items"
    __table_args__ = (Index("ix_destruction_items_case", "case_id"),)

    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("destruction_batches.id"), primary_key=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(30))  # clear, as the case's own is
    destroyed_at: Mapped[datetime | None]
    # Why the run left it: "legal_hold" (placed after the batch was proposed).
    skipped: Mapped[str | None] = mapped_column(String(20))

    batch: Mapped[DestructionBatch] = relationship(back_populates="items")
