"""A case: a contact with the LADO, from the first draft of a referral to its closure.

A partner's referral is a case from its first saved page (status ``draft``); a contact
the LADO's team logs from a phone call starts the same way. Everything that identifies a
person or tells what happened is sealed under the case's own data key (so the case can be
destroyed at the end of its retention by destroying that key); what the queue, the
deadlines and the annual report count stays clear: status, dates, sector, category,
source. Only ``portal.workflow`` changes a case's status.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.crypto.blind_index import BlindIndex, normalise_date, normalise_name
from portal.crypto.fields import DATE, TEXT, OwnerSpec, encrypted
from portal.crypto.fields import JSON as SEALED_JSON
from portal.models.base import Base, CreatedAt, UUIDPrimaryKey, enum_column, utcnow
from portal.vocabulary import (
    Answer,
    ConcludingAction,
    ContactMethod,
    EmploymentAction,
    HarmCategory,
    OnwardBody,
    Outcome,
    RegulatoryBody,
    SourceType,
    SubjectSector,
)

# Sealed under the case's key: the key's owner is the case, wrapped by its authority's.
CASE_OWNER = OwnerSpec.case(attribute="case_id", authority="authority_id")


class CaseStatus(StrEnum):
    """Where a case is in its life (see portal.workflow for the moves between)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"  # a contact, waiting for triage
    IN_TRIAGE = "in_triage"
    # Threshold decisions
    ADVICE_GIVEN = "advice_given"
    NO_FURTHER_ACTION = "no_further_action"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    TRANSFERRED = "transferred"
    REFERRAL = "referral"  # threshold met: the allegations process starts
    # The allegations process
    STRATEGY_DISCUSSION = "strategy_discussion"
    MEETINGS = "meetings"
    AWAITING_AGENCY = "awaiting_agency"  # paused: police, CPS or another agency
    OUTCOME = "outcome"
    CONCLUDING_ACTIONS = "concluding_actions"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """As the LADO's team reads it: "Advice given"."""
        return self.value.replace("_", " ").capitalize()


# Named rather than "not a draft or closed": an index on them then holds only the open
# cases, not years of closed ones.
OPEN_STATUSES = tuple(
    status for status in CaseStatus if status not in (CaseStatus.DRAFT, CaseStatus.CLOSED)
)
_IS_OPEN = column("status").in_([status.value for status in OPEN_STATUSES])


class DeadlineKind(StrEnum):
    RESPONSE = "response"  # to the referrer, 1 working day from receipt
    STRATEGY_DISCUSSION = "strategy_discussion"  # 2 working days, where police may act
    ALLEGATIONS_MEETING = "allegations_meeting"  # 5 working days from receipt
    REVIEW_MEETING = "review_meeting"  # 6 weeks from the last meeting
    AGENCY_REVIEW = "agency_review"  # a paused case is reviewed every 4 weeks
    ACTIONS = "actions"  # a meeting's actions go out within 24 hours of it
    MINUTES = "minutes"  # and its minutes within the authority's 10 or 15 working days
    PROGRESS_SUMMARY = "progress_summary"  # a referral open 3 months: a summary, 3-monthly
    SUBJECT_UPDATE = "subject_update"  # a subject with no employer: told within 48 hours


class Case(Base):
    __tablename__ = "cases"
    __encryption_owner__ = OwnerSpec.case(attribute="id", authority="authority_id")
    __table_args__ = (
        UniqueConstraint("authority_id", "reference", name="uq_cases_authority_reference"),
        # The queue reads an authority's open cases from this index alone (PostgreSQL:
        # an index-only scan), not from rows scattered among years of closed ones.
        Index(
            "ix_cases_authority_status",
            "authority_id",
            "status",
            postgresql_include=[
                "id",
                "reference",
                "received_at",
                "harm_category",
                "source_type",
                "assigned_to_id",
                "next_due_at",
                "next_due_kind",
            ],
        ),
        # The queue's first pages: its open cases in due order, read from the index
        # (no sort of every open case) and stopping at the page.
        Index(
            "ix_cases_open_due",
            "authority_id",
            "next_due_at",
            "received_at",
            "id",
            postgresql_where=_IS_OPEN,
            sqlite_where=_IS_OPEN,
            postgresql_include=[
                "reference",
                "status",
                "harm_category",
                "source_type",
                "assigned_to_id",
                "next_due_kind",
                "destroyed_at",  # access.cases_of asks (an open case never is)
            ],
        ),
        Index("ix_cases_organisation_status", "organisation_id", "status"),
        # Reports count a year's contacts from this index alone (PostgreSQL INCLUDE).
        Index(
            "ix_cases_authority_received",
            "authority_id",
            "received_at",
            postgresql_include=[
                "status",
                "decision",
                "harm_category",
                "source_type",
                "outcome",
                "outcome_months",
            ],
        ),
        Index("ix_cases_status_updated", "status", "updated_at"),
    )

    id: Mapped[UUIDPrimaryKey]
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    # The partner organisation that referred it; None for a contact the LADO logged from
    # someone who is not a portal partner (a parent, say).
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[CaseStatus] = enum_column(CaseStatus, default=CaseStatus.DRAFT)
    # BRK-2026-00042: given when the case is submitted, unique within its authority.
    reference: Mapped[str | None] = mapped_column(String(30))
    # A contact the LADO's team logged (from a call, an e-mail, a letter), rather than a
    # partner's referral through the portal. Partners never see the team's drafts.
    logged: Mapped[bool] = mapped_column(default=False)
    source_type: Mapped[SourceType | None] = enum_column(SourceType)
    # None: through the portal. Otherwise how the contact the LADO logged came in.
    contact_method: Mapped[ContactMethod | None] = enum_column(ContactMethod)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[CreatedAt]
    # The last time anyone saved a page of it (drafts untouched for 30 days are deleted).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expiry_warned_at: Mapped[datetime | None]
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    # When the LADO received it: the submission, or the phone call a logged contact
    # records. Time-scales run from here.
    received_at: Mapped[datetime | None]
    # Counts every move of the case: a move made from a stale page (someone else moved
    # the case since it was shown) is refused rather than applied twice.
    version: Mapped[int] = mapped_column(Integer, default=0)
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Its soonest open deadline (portal/models/timeline.py keeps these two as deadlines
    # are added and met): the queue sorts thousands of open cases by it.
    next_due_at: Mapped[datetime | None]
    next_due_kind: Mapped[DeadlineKind | None] = enum_column(DeadlineKind)
    # The LADO's latest threshold decision (the move's name: give_advice, accept_referral,
    # no_further_action, insufficient_information, transfer): clear, as reports count it.
    decision: Mapped[str | None] = mapped_column(String(40))
    # How a referral ended: clear, as the annual report counts them (None: ongoing).
    outcome: Mapped[Outcome | None] = enum_column(Outcome)
    outcome_on: Mapped[date | None]
    # Whole calendar months from receipt to the outcome, rounded up: the report's "resolved
    # within 1, 3 or 12 months" counted in SQL.
    outcome_months: Mapped[int | None]
    # Kept until then (portal/retention.py); a malicious allegation is also removed from
    # the subject's personnel records.
    retained_until: Mapped[date | None]
    remove_from_personnel_records: Mapped[bool] = mapped_column(default=False)
    # Destroyed at the end of its retention (portal/destruction.py): every sealed field
    # gone and its key with them; the clear columns stay, so past reports still add up.
    destroyed_at: Mapped[datetime | None]
    # Which sections have been answered in full, in the form's own names.
    completed_sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What was typed on a page that could not be saved as answers yet (the person chose
    # "save and come back later", or their session ran out): shown again on that page.
    unsaved_answers = encrypted(SEALED_JSON)

    # Who made contact
    referrer_name = encrypted(TEXT, max_length=200)
    referrer_role = encrypted(TEXT, max_length=200)
    referrer_phone = encrypted(TEXT, max_length=40)
    referrer_email = encrypted(TEXT, max_length=320)
    referrer_organisation_name = encrypted(TEXT, max_length=200)

    # What happened
    incident_on: Mapped[date | None]
    became_aware_on: Mapped[date | None]
    harm_category: Mapped[HarmCategory | None] = enum_column(HarmCategory)
    criteria: Mapped[list[str] | None] = mapped_column(JSON)
    incident_dates_detail = encrypted(TEXT, max_length=1000)
    location = encrypted(TEXT, max_length=500)
    allegation = encrypted(TEXT, max_length=10000)
    alleged_by = encrypted(TEXT, max_length=500)
    came_to_light = encrypted(TEXT, max_length=5000)
    late_reason = encrypted(TEXT, max_length=2000)

    # Actions taken so far
    police_informed: Mapped[Answer | None] = enum_column(Answer)
    crime_reference = encrypted(TEXT, max_length=100)
    csc_informed: Mapped[Answer | None] = enum_column(Answer)
    parents_informed: Mapped[Answer | None] = enum_column(Answer)
    employment_action: Mapped[EmploymentAction | None] = enum_column(EmploymentAction)
    other_agencies = encrypted(TEXT, max_length=2000)

    # The children: whether particular children are involved, then each of them.
    children_involved: Mapped[Answer | None] = enum_column(Answer)

    subject: Mapped[Subject | None] = relationship(
        back_populates="case", cascade="all, delete-orphan", uselist=False
    )
    children: Mapped[list[Child]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Child.position"
    )
    attachments: Mapped[list[CaseAttachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseAttachment.uploaded_at"
    )

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.status}>"


class Subject(Base):
    """The person of concern: the adult the allegation is about."""

    __tablename__ = "subjects"
    __encryption_owner__ = CASE_OWNER
    # Finding the same person in earlier contacts, in this authority and others: date of
    # birth first, as it rules out most of a bucket before a name need be opened.
    __blind_indexes__ = (
        BlindIndex(
            "subject.dob_name",
            ("date_of_birth", "full_name"),
            (normalise_date, normalise_name),
            bits=16,
        ),
    )

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    full_name = encrypted(TEXT, max_length=200)
    other_names = encrypted(TEXT, max_length=500)
    date_of_birth = encrypted(DATE)
    address = encrypted(TEXT, max_length=1000)
    job_title = encrypted(TEXT, max_length=200)
    employer = encrypted(TEXT, max_length=200)
    sector: Mapped[SubjectSector | None] = enum_column(SubjectSector)
    has_employer: Mapped[bool | None]
    works_with_children: Mapped[Answer | None] = enum_column(Answer)
    regulated: Mapped[Answer | None] = enum_column(Answer)
    regulator: Mapped[RegulatoryBody | None] = enum_column(RegulatoryBody)
    regulator_other = encrypted(TEXT, max_length=200)

    case: Mapped[Case] = relationship(back_populates="subject")


class Child(Base):
    """A child the allegation concerns."""

    __tablename__ = "children"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (Index("ix_children_case", "case_id", "position"),)

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name = encrypted(TEXT, max_length=200)
    date_of_birth = encrypted(DATE)
    age = encrypted(SEALED_JSON)  # whole years, when the date of birth is not known
    gender = encrypted(TEXT, max_length=20)
    setting = encrypted(TEXT, max_length=200)
    words = encrypted(TEXT, max_length=5000)
    special_needs: Mapped[Answer | None] = enum_column(Answer)
    known_to_social_care: Mapped[Answer | None] = enum_column(Answer)

    case: Mapped[Case] = relationship(back_populates="children")


class CaseAttachment(Base):
    """A file sent with a case. The bytes are a sealed StoredFile; its name is sealed
    here, under the case's key."""

    __tablename__ = "case_attachments"
    __encryption_owner__ = CASE_OWNER

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stored_files.id"))
    filename = encrypted(TEXT, nullable=False, max_length=255)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")


class CaseConclusion(Base):
    """A concluding action on a referral (a dismissal, a warning...), with its date: clear,
    as annual reports count them."""

    __tablename__ = "case_conclusions"
    __table_args__ = (
        Index("ix_case_conclusions_authority", "authority_id", "kind", "on"),
        Index("ix_case_conclusions_case", "case_id"),
    )

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    kind: Mapped[ConcludingAction] = enum_column(ConcludingAction)
    on: Mapped[date]


class OnwardReferral(Base):
    """A referral of the person to the DBS or a regulator, with its date."""

    __tablename__ = "onward_referrals"
    __encryption_owner__ = CASE_OWNER
    __table_args__ = (
        Index("ix_onward_referrals_authority", "authority_id", "body", "on"),
        Index("ix_onward_referrals_case", "case_id"),
    )

    id: Mapped[UUIDPrimaryKey]
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"))
    body: Mapped[OnwardBody] = enum_column(OnwardBody)
    on: Mapped[date]
    other_body = encrypted(TEXT, max_length=200)  # which, when "another body"


class ReferenceCounter(Base):
    """The last reference number given in an authority in a year."""

    __tablename__ = "reference_counters"

    authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("authorities.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)
