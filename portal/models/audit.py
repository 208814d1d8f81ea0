"""The append-only audit trail: who did what, when, to which record.

Rows are only ever inserted; triggers in the migration refuse UPDATE and DELETE on both
SQLite and PostgreSQL. Each event also carries a hash over itself and the event before
(portal/audit_chain.py), so one changed or removed by someone who can get round the
triggers is found by ``flask audit verify``. Details never hold personal data in clear:
ids and codes only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UUIDPrimaryKey, enum_column, utcnow


class AuditKind(StrEnum):
    SIGN_IN_SUCCEEDED = "sign_in.succeeded"
    SIGN_IN_FAILED = "sign_in.failed"
    SIGN_IN_THROTTLED = "sign_in.throttled"
    MFA_FAILED = "mfa.failed"
    SIGNED_OUT = "sign_out"
    SESSION_TIMED_OUT = "session.timed_out"
    MFA_ENROLLED = "mfa.enrolled"
    MFA_RESET = "mfa.reset"
    RECOVERY_CODE_USED = "mfa.recovery_code_used"
    RECOVERY_CODES_REGENERATED = "mfa.recovery_codes_regenerated"
    PASSWORD_CHANGED = "password.changed"
    PASSWORD_RESET_REQUESTED = "password.reset_requested"
    PASSWORD_RESET = "password.reset"
    INVITATION_SENT = "invitation.sent"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_REVOKED = "invitation.revoked"
    SUBJECT_INVITED = "subject.invited"
    TRACKER_IMPORTED = "tracker.imported"
    AUDIT_EXPORTED = "audit.exported"
    LEGAL_HOLD_PLACED = "retention.hold_placed"
    LEGAL_HOLD_LIFTED = "retention.hold_lifted"
    DESTRUCTION_PROPOSED = "retention.batch_proposed"
    DESTRUCTION_APPROVED = "retention.batch_approved"
    DESTRUCTION_WITHDRAWN = "retention.batch_withdrawn"
    CASE_DESTROYED = "retention.case_destroyed"
    SUBJECT_ACCESS_SEARCHED = "subject_access.searched"
    SUBJECT_ACCESS_EXPORTED = "subject_access.exported"
    SUBJECT_ACCESS_ENDED = "subject.access_ended"
    SUBJECT_CASE_VIEWED = "subject.case_viewed"
    ROLE_CHANGED = "membership.role_changed"
    MEMBERSHIP_DEACTIVATED = "membership.deactivated"
    MEMBERSHIP_REACTIVATED = "membership.reactivated"
    ORGANISATION_CREATED = "organisation.created"
    ORGANISATION_UPDATED = "organisation.updated"
    ORGANISATION_LINKED = "organisation.linked"
    ORGANISATION_UNLINKED = "organisation.unlinked"
    AUTHORITY_CREATED = "authority.created"
    AUTHORITY_SETTINGS_CHANGED = "authority.settings_changed"
    CASE_STARTED = "case.started"
    CASE_SECTION_SAVED = "case.section_saved"
    CASE_ANSWERS_KEPT = "case.answers_kept"
    CASE_SUBMITTED = "case.submitted"
    CASE_MOVED = "case.moved"
    CASE_ASSIGNED = "case.assigned"
    CASE_REPEATS_LOOKED_UP = "case.repeats_looked_up"
    CASE_EARLIER_RECORD_OPENED = "case.earlier_record_opened"
    CASE_NOTE_ADDED = "case.note_added"
    CASE_TRANSFERRED_IN = "case.transferred_in"
    CASE_VIEWED = "case.viewed"
    MEETING_ARRANGED = "meeting.arranged"
    MEETING_INVITEE_ADDED = "meeting.invitee_added"
    MEETING_VIEWED = "meeting.viewed"
    MEETING_HELD = "meeting.held"
    MEETING_ACTIONS_SENT = "meeting.actions_sent"
    MEETING_MINUTES_SENT = "meeting.minutes_sent"
    MEETING_MINUTES_SAVED = "meeting.minutes_saved"
    MEETING_MINUTES_DOWNLOADED = "meeting.minutes_downloaded"
    ACTION_ADDED = "action.added"
    ACTION_CHANGED = "action.changed"
    ACTION_CHASED = "action.chased"
    ACTIONS_LISTED = "action.listed"
    CHECKLIST_CHANGED = "checklist.changed"
    INFORMATION_REQUESTED = "request.sent"
    # The LADO's team asked an organisation's administrators to add someone to answer.
    SOMEONE_NEEDED = "request.someone_needed"
    REQUEST_VIEWED = "request.viewed"
    UPDATE_WRITTEN = "update.written"
    UPDATE_PUBLISHED = "update.published"
    UPDATE_VIEWED = "update.viewed"
    EMBARGO_SET = "embargo.set"
    EMBARGO_LIFTED = "embargo.lifted"
    REQUEST_SAVED = "request.saved"
    REQUEST_SUBMITTED = "request.submitted"
    REQUEST_FILE_ADDED = "request.file_added"
    REQUEST_FILE_REMOVED = "request.file_removed"
    REQUEST_FILE_DOWNLOADED = "request.file_downloaded"
    CASES_LISTED = "case.listed"
    CASE_DRAFT_DELETED = "case.draft_deleted"
    CASE_DRAFT_EXPIRY_WARNED = "case.draft_expiry_warned"
    CASE_DRAFT_EXPIRED = "case.draft_expired"
    ATTACHMENT_ADDED = "attachment.added"
    ATTACHMENT_REMOVED = "attachment.removed"
    ATTACHMENT_DOWNLOADED = "attachment.downloaded"


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_authority_occurred", "authority_id", "occurred_at"),
        Index("ix_audit_events_target_user", "target_user_id"),
        Index("ix_audit_events_actor", "actor_id"),
        Index("ix_audit_events_case", "case_id", "occurred_at"),
        Index("uq_audit_events_seq", "seq", unique=True),
    )

    id: Mapped[UUIDPrimaryKey]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[AuditKind] = enum_column(AuditKind)
    # Plain ids, not foreign keys: the trail outlives the rows it talks about.
    actor_id: Mapped[uuid.UUID | None]
    authority_id: Mapped[uuid.UUID | None]
    organisation_id: Mapped[uuid.UUID | None]
    target_user_id: Mapped[uuid.UUID | None]
    case_id: Mapped[uuid.UUID | None]
    # HMAC of the client address: links events from one place without storing the address.
    address_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Its place in the chain (1, 2, 3... with no gaps) and SHA-256 over the previous
    # event's hash and this event's fields, set by portal/audit_chain.py as it is flushed.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(Base):
    """The chain's last link: one row. Taking its lock is what puts one transaction's
    events after another's; it also tells a deleted last event from the end."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    chain_hash: Mapped[str] = mapped_column(String(64))
