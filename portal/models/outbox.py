"""E-mails waiting to go out, written in the same transaction as the change that caused them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, CreatedAt, Email, UUIDPrimaryKey, enum_column


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one worker
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_created", "status", "created_at"),)

    id: Mapped[UUIDPrimaryKey]
    template: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[Email]
    subject: Mapped[str] = mapped_column(String(200))
    # Cleared once sent: the body may hold a one-time link that must not linger.
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OutboxStatus] = enum_column(OutboxStatus, default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[CreatedAt]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    related_user_id: Mapped[uuid.UUID | None]
