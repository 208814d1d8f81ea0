"""SQLAlchemy 2.0 typed models, one module per aggregate.

Importing this package registers every table on ``Base.metadata`` (for Alembic).
"""

from portal.crypto.blind_index import normalise_email
from portal.models.audit import AuditChainHead, AuditEvent, AuditKind
from portal.models.authority import Authority
from portal.models.base import Base, utcnow
from portal.models.blind_index import BlindIndexEntry
from portal.models.case import (
    OPEN_STATUSES,
    Case,
    CaseAttachment,
    CaseConclusion,
    CaseStatus,
    Child,
    DeadlineKind,
    OnwardReferral,
    ReferenceCounter,
    Subject,
)
from portal.models.data_key import DataKey
from portal.models.invitation import Invitation, PasswordReset
from portal.models.meeting import (
    ActionStatus,
    ChecklistQuestion,
    InformationRequest,
    Meeting,
    MeetingAction,
    MeetingInvitee,
    MeetingKind,
    RequestAttachment,
    RequestReminder,
)
from portal.models.organisation import Organisation, OrganisationAuthority
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.retention import DestructionBatch, DestructionItem, LegalHold
from portal.models.sign_in_attempt import SignInAttempt, ThrottleKey
from portal.models.stored_file import StoredFile, StoredFileChunk
from portal.models.subject_link import SubjectLink
from portal.models.timeline import (
    CaseEvent,
    CaseNote,
    CaseTransfer,
    Deadline,
    DelayReason,
)
from portal.models.update import CaseUpdate, Embargo, PublishedUpdate, UpdateRecipient
from portal.models.user import (
    AUTHORITY_ROLES,
    ORGANISATION_ROLES,
    Membership,
    RecoveryCode,
    Role,
    User,
)
from portal.models.web_session import WebSession

__all__ = [
    "AUTHORITY_ROLES",
    "OPEN_STATUSES",
    "ORGANISATION_ROLES",
    "ActionStatus",
    "AuditChainHead",
    "AuditEvent",
    "AuditKind",
    "Authority",
    "Base",
    "BlindIndexEntry",
    "Case",
    "CaseAttachment",
    "CaseConclusion",
    "CaseEvent",
    "CaseNote",
    "CaseStatus",
    "CaseTransfer",
    "CaseUpdate",
    "ChecklistQuestion",
    "Child",
    "DataKey",
    "Deadline",
    "DeadlineKind",
    "DelayReason",
    "DestructionBatch",
    "DestructionItem",
    "Embargo",
    "InformationRequest",
    "Invitation",
    "LegalHold",
    "Meeting",
    "MeetingAction",
    "MeetingInvitee",
    "MeetingKind",
    "Membership",
    "OnwardReferral",
    "Organisation",
    "OrganisationAuthority",
    "OutboxMessage",
    "OutboxStatus",
    "PasswordReset",
    "PublishedUpdate",
    "RecoveryCode",
    "ReferenceCounter",
    "RequestAttachment",
    "RequestReminder",
    "Role",
    "SignInAttempt",
    "StoredFile",
    "StoredFileChunk",
    "Subject",
    "SubjectLink",
    "ThrottleKey",
    "UpdateRecipient",
    "User",
    "WebSession",
    "normalise_email",
    "utcnow",
]
