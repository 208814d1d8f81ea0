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
from typing import Any, cast

from sqlalchemy import JSON, ForeignKey, Index, String, Table, event, false, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.crypto.fields import TEXT, encrypted
from portal.models.base import Base, UUIDPrimaryKey, enum_column, utcnow
from portal.models.case import CASE_OWNER, Case, CaseStatus, DeadlineKind
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


# Each case row carries its soonest open deadline (Case.next_due_at, next_due_kind), so
# the queue sorts an authority's open cases without grouping their deadlines on every
# page. Whatever adds, meets or deletes a deadline through the session keeps it true:
# the flush notes the cases touched, and sets theirs from the deadlines table itself.
_TOUCHED = "portal.cases_with_changed_deadlines"


@event.listens_for(Session, "after_flush")
def _note_changed_deadlines(session: Session, _context: Any) -> None:
    touched = {
        row.case_id
        for row in (*session.new, *session.dirty, *session.deleted)
        if isinstance(row, Deadline)
    }
    if touched:
        session.info.setdefault(_TOUCHED, set()).update(touched)


@event.listens_for(Session, "after_flush_postexec")
def _set_next_deadline(session: Session, _context: Any) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if not touched:
        return
    deadlines, cases = cast(Table, Deadline.__table__), cast(Table, Case.__table__)
    soonest = (
        select(deadlines)
        .where(deadlines.c.case_id == cases.c.id, deadlines.c.met_at.is_(None))
        .order_by(deadlines.c.due_at, deadlines.c.kind)
        .limit(1)
    )
    session.connection().execute(
        update(cases)
        .where(cases.c.id.in_(touched))
        .values(
            next_due_at=soonest.with_only_columns(deadlines.c.due_at).scalar_subquery(),
            next_due_kind=soonest.with_only_columns(deadlines.c.kind).scalar_subquery(),
        )
    )
    for case_id in touched:  # loaded copies read the new values when next used
        case = session.identity_map.get(Session.identity_key(Case, case_id))
        if case is not None:
            session.expire(case, ["next_due_at", "next_due_kind"])


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
    # The 3-monthly summary of a referral's progress (it meets that clock).
    progress_summary: Mapped[bool] = mapped_column(default=False, server_default=false())


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
