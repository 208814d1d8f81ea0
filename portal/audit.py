"""Writing audit events. Callers add them to the unit of work they audit, so the event
and the change commit or roll back together."""

from __future__ import annotations

import uuid
from typing import Any

from portal import audit_chain  # noqa: F401  (chains events as they commit)
from portal.extensions import db
from portal.models import AuditEvent, AuditKind, Case
from portal.models.base import utcnow


def record(
    kind: AuditKind,
    *,
    actor_id: uuid.UUID | None = None,
    authority_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    target_user_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    address_hash: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an event to the current transaction. ``detail`` holds codes and ids only."""
    event = AuditEvent(
        # Set now, not at the flush: the chain orders one transaction's events by it.
        occurred_at=utcnow(),
        kind=kind,
        actor_id=actor_id,
        authority_id=authority_id,
        organisation_id=organisation_id,
        target_user_id=target_user_id,
        case_id=case_id,
        address_hash=address_hash,
        detail={key: _plain(value) for key, value in detail.items()},
    )
    db.session.add(event)
    return event


def own_account(
    kind: AuditKind, user_id: uuid.UUID, address_hash: str | None, **detail: Any
) -> AuditEvent:
    """Something a person did to their own account (signed in, changed a password...)."""
    return record(
        kind, actor_id=user_id, target_user_id=user_id, address_hash=address_hash, **detail
    )


def about_case(
    kind: AuditKind,
    case: Case,
    actor_id: uuid.UUID | None,
    address_hash: str | None,
    *,
    target_user_id: uuid.UUID | None = None,
    **detail: Any,
) -> AuditEvent:
    """Something done to or with a case (seen, saved, moved, noted...): tagged with the
    case and its authority and organisation, so each of their trails finds it."""
    return record(
        kind,
        actor_id=actor_id,
        authority_id=case.authority_id,
        organisation_id=case.organisation_id,
        target_user_id=target_user_id,
        case_id=case.id,
        address_hash=address_hash,
        **detail,
    )


def _plain(value: Any) -> Any:
    """JSON-friendly: ids and enums become strings."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    return value
