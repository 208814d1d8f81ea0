"""E-mails waiting to go out, written in the same transaction as the change that caused them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.crypto.fields import TEXT, OwnerSpec, encrypted
from portal.models.base import Base, CreatedAt, UUIDPrimaryKey, enum_column


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one worker
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __encryption_owner__ = OwnerSpec.deployment()
    __table_args__ = (Index("ix_outbox_messages_status_created", "status", "created_at"),)

    id: Mapped[UUIDPrimaryKey]
    template: Mapped[str] = mapped_column(String(60))
    recipient = encrypted(TEXT, max_length=320, nullable=False)
    # Service wording only ("Reset your password"): no personal data, kept clear.
    subject: Mapped[str] = mapped_column(String(200))
    # Cleared once sent: the body may hold a one-time link that must not linger.
    body = encrypted(TEXT, max_length=20_000)
    status: Mapped[OutboxStatus] = enum_column(OutboxStatus, default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[CreatedAt]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    related_user_id: Mapped[uuid.UUID | None]
