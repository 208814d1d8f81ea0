"""Inviting a subject to read their case's updates, and ending their access.

The invitation is the same one-time link as everyone's (portal.auth.invitations): it
sets a password and an authenticator app, or, for a subject who already has an account
from another case, asks them to sign in. It carries no role, only the case.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from portal import audit, notify
from portal.auth.service import user_by_email
from portal.config import current_settings
from portal.extensions import db
from portal.models import (
    AuditKind,
    Authority,
    Case,
    Invitation,
    SubjectLink,
    User,
    normalise_email,
    utcnow,
)
from portal.tokens import hash_token, new_token


class SubjectInvitationError(Exception):
    """Why the subject cannot be invited, worded for the LADO: the field, and why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name


def told_directly(case: Case) -> bool:
    """Whether the LADO tells the subject themselves (no employer to do it, or an account
    of their own): after each meeting they hear within 48 hours."""
    if case.subject is not None and case.subject.has_employer is False:
        return True
    return any(link.is_active for link in links_of(case))


def readers(case: Case) -> list[User]:
    """The subject accounts that read the case's updates now."""
    linked = [link.user_id for link in links_of(case) if link.is_active]
    return list(db.session.scalars(select(User).where(User.id.in_(linked))))


def links_of(case: Case) -> list[SubjectLink]:
    return list(db.session.scalars(select(SubjectLink).where(SubjectLink.case_id == case.id)))


def pending_of(case: Case) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.case_id == case.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def invite(
    case: Case, actor: User, *, email: str, full_name: str, address_hash: str | None
) -> Invitation:
    """Send the subject a link to an account that reads this case's updates. An address
    that already signs in as staff or a partner is refused: a subject's account must be
    theirs alone, as it shows them only their own cases."""
    existing = user_by_email(email)
    if existing is not None and existing.memberships:
        raise SubjectInvitationError(
            "email",
            "That email address is already used by an account of an organisation or a "
            "council. The subject needs an address of their own",
        )
    if existing is not None and any(
        link.case_id == case.id and link.is_active for link in existing.subject_links
    ):
        raise SubjectInvitationError("email", "They can already read this case's updates")
    for earlier in pending_of(case):
        earlier.revoked_at = utcnow()  # only the newest link works
    token = new_token()
    now = utcnow()
    invitation = Invitation(
        id=uuid.uuid4(),
        token_hash=hash_token(token),
        role_values=[],
        authority_id=case.authority_id,
        case_id=case.id,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + current_settings().invitation_lifetime,
    )
    invitation.email = normalise_email(email)
    invitation.full_name = full_name.strip()
    db.session.add(invitation)
    authority = db.session.get_one(Authority, case.authority_id)
    notify.queue_email(
        "subject_invitation",
        invitation.email,
        full_name=invitation.full_name,
        authority=authority.display_name,
        link=notify.absolute_url("auth.open_invitation", token=token),
        existing_user=existing is not None,
        lifetime_hours=round(current_settings().invitation_lifetime.total_seconds() / 3600),
    )
    audit.about_case(
        AuditKind.SUBJECT_INVITED,
        case,
        actor.id,
        address_hash,
        invitation_id=str(invitation.id),
        target_user_id=existing.id if existing else None,
    )
    return invitation


def end_access(case: Case, link: SubjectLink, actor: User, address_hash: str | None) -> None:
    link.ended_at = utcnow()
    audit.about_case(
        AuditKind.SUBJECT_ACCESS_ENDED,
        case,
        actor.id,
        address_hash,
        target_user_id=link.user_id,
    )
