"""What the LADO publishes about a case, redacted for each audience.

An update is written once (the original is sealed and read only by the authority's
staff) and published to one or more audiences. What each audience reads is stored
exactly as the LADO confirmed it, sealed, with who published it and when; which
organisations it reached is kept clear, so a partner's pages find theirs by index.
An embargo ("do not tell the subject until ...") blocks publishing to an audience.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.crypto.fields import JSON as SEALED_JSON
from portal.crypto.fields import TEXT, encrypted
from portal.models.base import Base, CreatedAt, UUIDPrimaryKey, enum_column
from portal.models.case import CASE_OWNER
from portal.redaction import Audience


class CaseUpdate(Base):
    __tablename__ = "case_updates"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (Index("ix_case_updates_case", "case_id", "written_at"),)

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    text = encrypted(TEXT, nullable=False, max_length=20000)  # the original, unredacted
    # Names the case's own fields do not hold (witnesses, say), to keep out as well.
    other_names = encrypted(SEALED_JSON)
    # The audiences chosen when it was written (values of Audience).
    audience_values: Mapped[list[str]] = mapped_column(JSON)
    written_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[CreatedAt]
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]

    published: Mapped[list[PublishedUpdate]] = relationship(
        back_populates="update", cascade="all, delete-orphan"
    )


class PublishedUpdate(Base):
    """One audience's text of an update, as the LADO confirmed it."""

    __tablename__ = "published_updates"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (
        UniqueConstraint("update_id", "audience", name="uq_published_updates_audience"),
        Index("ix_published_updates_case", "case_id", "audience", "published_at"),
    )

    id: Mapped[UUIDPrimaryKey]
    update_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_updates.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    audience: Mapped[Audience] = enum_column(Audience)
    text = encrypted(TEXT, nullable=False, max_length=20000)
    redactions: Mapped[int] = mapped_column(Integer, default=0)  # how many places
    published_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime]

    update: Mapped[CaseUpdate] = relationship(back_populates="published")
    recipients: Mapped[list[UpdateRecipient]] = relationship(cascade="all, delete-orphan")


class UpdateRecipient(Base):
    """An organisation an audience's text reached: its people read it on their pages."""

    __tablename__ = "update_recipients"
    __table_args__ = (
        UniqueConstraint("published_update_id", "organisation_id", name="uq_update_recipients"),
        Index("ix_update_recipients_organisation", "organisation_id", "case_id"),
    )

    id: Mapped[UUIDPrimaryKey]
    published_update_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("published_updates.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))


class Embargo(Base):
    """The police (or the LADO on their advice) ask that an audience is not told
    anything until a date: publishing to it is refused while the embargo stands."""

    __tablename__ = "embargoes"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (Index("ix_embargoes_case", "case_id", "lifted_at"),)

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    audience: Mapped[Audience] = enum_column(Audience)
    until: Mapped[date]  # the last day it stands
    reason = encrypted(TEXT, nullable=False, max_length=2000)
    set_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # Set by a partner (the police) rather than the LADO's team.
    set_by_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    set_at: Mapped[CreatedAt]
    lifted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None]
