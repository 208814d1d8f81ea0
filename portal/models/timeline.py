"""What happens to a case after it is sent: the timeline of its moves, the deadlines
those moves start and meet, and its transfers between authorities.

Timeline entries keep the rationale or reason a person wrote, sealed under the case's
key; which move it was, from and to which status, when and by whom stay clear. Deadlines
are wholly clear (kinds, dates, met or missed, a delay reason's code), so the queue and
the annual report never need to decrypt anything; only a delay's free text is sealed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.crypto.fields import TEXT, encrypted
from portal.models.base import Base, UUIDPrimaryKey, enum_column, utcnow
from portal.models.case import CASE_OWNER, CaseStatus
from portal.vocabulary import LabelledEnum, labels


class CaseEvent(Base):
    """One move of a case (a threshold decision, a meeting held, its closure...)."""

    __tablename__ = "case_events"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (Index("ix_case_events_case", "case_id", "occurred_at"),)

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    transition: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[CaseStatus] = enum_column(CaseStatus)
    to_status: Mapped[CaseStatus] = enum_column(CaseStatus)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Codes and ids only (the criteria met, the authority transferred to...).
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rationale = encrypted(TEXT, max_length=10000)


class DeadlineKind(StrEnum):
    RESPONSE = "response"  # to the referrer, 1 working day from receipt
    STRATEGY_DISCUSSION = "strategy_discussion"  # 2 working days, where police may act
    ALLEGATIONS_MEETING = "allegations_meeting"  # 5 working days from receipt
    REVIEW_MEETING = "review_meeting"  # 6 weeks from the last meeting
    AGENCY_REVIEW = "agency_review"  # a paused case is reviewed every 4 weeks


class DelayReason(LabelledEnum):
    """Why a time-scale was missed: the annual report counts these."""

    POLICE_INVESTIGATION = "police_investigation"
    CPS_DECISION = "cps_decision"
    AWAITING_AGENCY_INFORMATION = "awaiting_agency_information"
    EMPLOYER_INVESTIGATION = "employer_investigation"
    MEETING_AVAILABILITY = "meeting_availability"
    SUBJECT_UNAVAILABLE = "subject_unavailable"
    LATE_REFERRAL = "late_referral"
    COMPLEXITY = "complexity"
    OTHER = "other"


labels(
    DelayReason,
    {
        "police_investigation": "Police investigation",
        "cps_decision": "Waiting for a Crown Prosecution Service decision",
        "awaiting_agency_information": "Waiting for information from another agency",
        "employer_investigation": "Employer's investigation",
        "meeting_availability": "Finding a time all agencies could meet",
        "subject_unavailable": "The person was unavailable (for example, illness)",
        "late_referral": "The referral reached the LADO late",
        "complexity": "The complexity of the case",
        "other": "Another reason",
    },
)


class Deadline(Base):
    __tablename__ = "deadlines"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (
        Index("ix_deadlines_case", "case_id"),
        # The queue: each authority's open deadlines, soonest first.
        Index(
            "ix_deadlines_open",
            "authority_id",
            "met_at",
            "due_at",
            postgresql_include=["case_id", "kind"],
        ),
    )

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    kind: Mapped[DeadlineKind] = enum_column(DeadlineKind)
    starts_at: Mapped[datetime]
    due_at: Mapped[datetime]
    met_at: Mapped[datetime | None]
    # Set once the deadline is past and not met: at the next move of the case.
    delay_reason: Mapped[DelayReason | None] = enum_column(DelayReason)
    delay_detail = encrypted(TEXT, max_length=2000)

    @property
    def missed(self) -> bool:
        return (self.met_at or utcnow()) > self.due_at


class CaseNote(Base):
    """The LADO's team's own notes on a case: never shown to partners or the subject."""

    __tablename__ = "case_notes"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (Index("ix_case_notes_case", "case_id", "created_at"),)

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    text = encrypted(TEXT, max_length=5000, nullable=False)


class CaseTransfer(Base):
    """A case handed to another authority of the deployment. The case, its key and its
    history go to the receiving authority; this row stays, wholly clear, as the sending
    authority's record of the contact (its annual report counts transfers)."""

    __tablename__ = "case_transfers"
    __table_args__ = (
        Index("ix_case_transfers_from", "from_authority_id", "received_at"),
        Index("ix_case_transfers_case", "case_id"),
    )

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    from_authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    to_authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    reference: Mapped[str] = mapped_column(String(30))
    # When the sending authority received the contact, and when it handed it over.
    received_at: Mapped[datetime]
    transferred_at: Mapped[datetime] = mapped_column(default=utcnow)
    transferred_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
