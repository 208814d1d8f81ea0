"""Meetings on a case and what the LADO asks the agencies before one.

A meeting's time stays clear (its clocks, the invitation's .ics, the reminders); where it
is held (a room, an address, an online link) is sealed under the case's key. An
information request is one organisation's checklist for one meeting: which checklist and
when it is due stay clear, the answers are sealed. An organisation's users see a request
made of it with the case's reference and the meeting's date, and nothing else of the case.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.checklists import Agency
from portal.crypto.fields import JSON as SEALED_JSON
from portal.crypto.fields import TEXT, encrypted
from portal.models.base import Base, CreatedAt, UUIDPrimaryKey, enum_column, utcnow
from portal.models.case import CASE_OWNER
from portal.vocabulary import LabelledEnum, labels


class MeetingKind(LabelledEnum):
    STRATEGY_DISCUSSION = "strategy_discussion"
    # Some authorities hold an Initial Evaluation Meeting before the allegations meeting.
    EVALUATION = "evaluation"
    # The allegations meeting: its name is the authority's (ASV, POT, AMM).
    ALLEGATIONS = "allegations"
    REVIEW = "review"  # reconvened


labels(
    MeetingKind,
    {
        "strategy_discussion": "Strategy discussion",
        "evaluation": "Initial evaluation meeting (IEM)",
        "allegations": "Allegations meeting",
        "review": "Review (reconvened) meeting",
    },
)


class Meeting(Base):
    __tablename__ = "meetings"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (Index("ix_meetings_case", "case_id", "starts_at"),)

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    kind: Mapped[MeetingKind] = enum_column(MeetingKind)
    starts_at: Mapped[datetime]
    minutes_long: Mapped[int] = mapped_column(Integer, default=60)
    # A room, an address or a link (required on the form; None once the case is destroyed:
    # its meetings are kept, as the annual report counts them).
    place = encrypted(TEXT, max_length=500)
    chair_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # Why it was arranged in the past or on a bank holiday, when it was (sealed).
    date_reason = encrypted(TEXT, max_length=1000)
    arranged_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    arranged_at: Mapped[CreatedAt]
    held_at: Mapped[datetime | None]
    # Recorded after it: who came, what was decided, the minutes (all sealed), and when
    # the actions and the minutes went out to the invitees.
    attendance = encrypted(TEXT, max_length=5000)
    decisions = encrypted(TEXT, max_length=20000)
    minutes = encrypted(TEXT, max_length=100000)
    # Or the minutes as a document (typed elsewhere): sealed like any other file.
    minutes_file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stored_files.id"))
    minutes_filename = encrypted(TEXT, max_length=255)
    minutes_media_type: Mapped[str | None] = mapped_column(String(100))
    actions_sent_at: Mapped[datetime | None]
    minutes_sent_at: Mapped[datetime | None]

    invitees: Mapped[list[MeetingInvitee]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )


class MeetingInvitee(Base):
    """A partner organisation (all its users, or one of them) or a member of the
    authority's staff asked to a meeting."""

    __tablename__ = "meeting_invitees"
    __table_args__ = (
        Index("ix_meeting_invitees_meeting", "meeting_id"),
        Index("ix_meeting_invitees_case", "case_id"),
        Index("ix_meeting_invitees_organisation", "organisation_id"),
        Index("ix_meeting_invitees_user", "user_id"),
    )

    id: Mapped[UUIDPrimaryKey]
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="invitees")


class ActionStatus(LabelledEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


labels(ActionStatus, {"open": "Open", "done": "Done", "dropped": "No longer needed"})


class MeetingAction(Base):
    """Something a meeting asked someone to do: an organisation or a member of the
    team, by a date. What it is stays sealed; who, when and its state are clear, for
    the LADO's list of outstanding actions."""

    __tablename__ = "meeting_actions"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (
        Index("ix_meeting_actions_meeting", "meeting_id"),
        Index("ix_meeting_actions_outstanding", "authority_id", "status", "due_on"),
        Index("ix_meeting_actions_organisation", "owner_organisation_id"),
    )

    id: Mapped[UUIDPrimaryKey]
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    text = encrypted(TEXT, nullable=False, max_length=2000)
    owner_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date]
    status: Mapped[ActionStatus] = enum_column(ActionStatus, default=ActionStatus.OPEN)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[CreatedAt]
    closed_at: Mapped[datetime | None]
    # When the LADO's team last chased it: outstanding actions are chased fortnightly.
    chased_at: Mapped[datetime | None]


class InformationRequest(Base):
    """One organisation's checklist for one meeting."""

    __tablename__ = "information_requests"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (
        UniqueConstraint("meeting_id", "organisation_id", name="uq_information_requests_asked"),
        Index("ix_information_requests_case", "case_id"),
        Index("ix_information_requests_organisation", "organisation_id", "submitted_at"),
        Index("ix_information_requests_due", "submitted_at", "due_at"),
    )

    id: Mapped[UUIDPrimaryKey]
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    agency: Mapped[Agency] = enum_column(Agency)
    due_at: Mapped[datetime]
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[CreatedAt]
    # Question key -> answer, saved as a draft or sent.
    answers = encrypted(SEALED_JSON)
    saved_at: Mapped[datetime | None]
    saved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Set when it was sent after the meeting had started: allowed, and shown as late.
    late: Mapped[bool] = mapped_column(default=False)

    meeting: Mapped[Meeting] = relationship()


class RequestAttachment(Base):
    """A file an agency sends with its answers: sealed, as the answers are, under the
    case's key; its name too."""

    __tablename__ = "request_attachments"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (Index("ix_request_attachments_request", "request_id"),)

    id: Mapped[UUIDPrimaryKey]
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("information_requests.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stored_files.id"))
    filename = encrypted(TEXT, nullable=False, max_length=255)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestReminder(Base):
    """A reminder sent about a request, once per rule ("due tomorrow", "overdue"): the
    unique key makes `flask reminders` safe to run as often as cron likes."""

    __tablename__ = "request_reminders"
    __table_args__ = (UniqueConstraint("request_id", "rule", name="uq_request_reminders_once"),)

    id: Mapped[UUIDPrimaryKey]
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("information_requests.id"))
    rule: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChecklistQuestion(Base):
    """A question an authority adds to one agency's checklist (not personal data)."""

    __tablename__ = "checklist_questions"
    __table_args__ = (Index("ix_checklist_questions_authority", "authority_id", "agency"),)

    id: Mapped[UUIDPrimaryKey]
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    agency: Mapped[Agency] = enum_column(Agency)
    text: Mapped[str] = mapped_column(String(300))
    hint: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[CreatedAt]
    # Removed from the checklist for requests to come; answers already given to it stay.
    retired_at: Mapped[datetime | None]
