"""A subject's account, linked to the cases whose updates it may read.

A subject with no employer (a self-employed tutor, a childminder, a foster carer, a
volunteer) has no membership in any authority or organisation: these links are all it
may see, and only the updates published to the subject audience on each case.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, CreatedAt, UUIDPrimaryKey


class SubjectLink(Base):
    __tablename__ = "subject_links"
    __table_args__ = (
        UniqueConstraint("user_id", "case_id", name="uq_subject_links_user_case"),
        Index("ix_subject_links_case", "case_id"),
    )

    id: Mapped[UUIDPrimaryKey]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    linked_at: Mapped[CreatedAt]
    ended_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
