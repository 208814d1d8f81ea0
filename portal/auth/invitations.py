"""Invitations: the only way into the portal. An administrator invites a person by e-mail
to roles in one authority or organisation; the one-time link expires after 72 hours.

A new person sets a password and an authenticator app; someone who already has an
account signs in and the roles are added to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import Enum, auto

from sqlalchemy.exc import IntegrityError

from portal import audit, notify
from portal.access import pending_invitations
from portal.auth.links import (
    LinkAlreadyUsedError,
    LinkProblem,
    expired,
    find_by_token,
    use_once,
)
from portal.auth.service import replace_password, set_password, user_by_email
from portal.config import current_settings
from portal.extensions import db
from portal.models import (
    AuditKind,
    Invitation,
    Membership,
    Role,
    SubjectLink,
    User,
    normalise_email,
    utcnow,
)
from portal.places import Place, is_in, place_at, place_ids, place_name
from portal.tokens import hash_token, new_token


class InvitationError(Exception):
    """A reason the invitation cannot be made, worded for the person making it."""


def invite(
    *,
    actor: User | None,
    email: str,
    full_name: str,
    roles: Sequence[Role],
    place: Place,
    address_hash: str | None = None,
) -> Invitation:
    """Invite someone; any earlier pending invitation of theirs to the same place is
    replaced, so only the newest link works."""
    if not roles:
        raise ValueError("an invitation needs at least one role")
    email = normalise_email(email)
    existing = user_by_email(email)
    if existing is not None and any(
        is_in(m.authority_id, m.organisation_id, place) for m in existing.active_memberships
    ):
        raise InvitationError(
            f"{existing.full_name} already has an account here. Change their roles from "
            "their page instead"
        )
    # Few pending invitations per place: compared after decryption, not by an index.
    for earlier in db.session.scalars(pending_invitations(place)):
        if earlier.email != email:
            continue
        earlier.revoked_at = utcnow()
    token = new_token()
    now = utcnow()
    invitation = Invitation(
        id=uuid.uuid4(),
        token_hash=hash_token(token),
        email=email,
        full_name=full_name.strip(),
        role_values=[role.value for role in roles],
        **place_ids(place),
        invited_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=now + current_settings().invitation_lifetime,
    )
    db.session.add(invitation)
    _send(invitation, token, existing_user=existing is not None and existing.is_active)
    audit.record(
        AuditKind.INVITATION_SENT,
        actor_id=actor.id if actor else None,
        authority_id=invitation.authority_id,
        organisation_id=invitation.organisation_id,
        target_user_id=existing.id if existing else None,
        address_hash=address_hash,
        invitation_id=invitation.id,
        roles=invitation.role_values,
    )
    db.session.commit()
    return invitation


def resend(invitation: Invitation, *, actor: User, address_hash: str | None = None) -> None:
    """A new link and a new 72 hours; the old link stops working."""
    token = new_token()
    invitation.token_hash = hash_token(token)
    invitation.expires_at = utcnow() + current_settings().invitation_lifetime
    existing = user_by_email(invitation.email)
    _send(invitation, token, existing_user=existing is not None and existing.is_active)
    audit.record(
        AuditKind.INVITATION_SENT,
        actor_id=actor.id,
        authority_id=invitation.authority_id,
        organisation_id=invitation.organisation_id,
        address_hash=address_hash,
        invitation_id=invitation.id,
        resent=True,
    )
    db.session.commit()


def revoke(invitation: Invitation, *, actor: User, address_hash: str | None = None) -> None:
    invitation.revoked_at = utcnow()
    audit.record(
        AuditKind.INVITATION_REVOKED,
        actor_id=actor.id,
        authority_id=invitation.authority_id,
        organisation_id=invitation.organisation_id,
        address_hash=address_hash,
        invitation_id=invitation.id,
    )
    db.session.commit()


def place_of(invitation: Invitation) -> Place:
    return place_at(invitation.authority_id, invitation.organisation_id)


def _send(invitation: Invitation, token: str, *, existing_user: bool) -> None:
    notify.queue_email(
        "invitation_existing_user" if existing_user else "invitation",
        invitation.email,
        full_name=invitation.full_name,
        place=place_name(place_of(invitation)),
        roles=", ".join(role.label for role in invitation.roles),
        link=notify.absolute_url("auth.open_invitation", token=token),
        existing_user=existing_user,
        lifetime_hours=round(current_settings().invitation_lifetime.total_seconds() / 3600),
    )


# Accepting


def invitation_for_token(token: str) -> Invitation | LinkProblem:
    return _usable(find_by_token(Invitation, token))


def invitation_by_id(invitation_id: uuid.UUID) -> Invitation | LinkProblem:
    return _usable(db.session.get(Invitation, invitation_id))


def _usable(invitation: Invitation | None) -> Invitation | LinkProblem:
    if invitation is None or invitation.revoked_at is not None:
        return LinkProblem.NOT_FOUND
    if invitation.accepted_at is not None:
        return LinkProblem.USED
    if expired(invitation.expires_at):
        return LinkProblem.EXPIRED
    return invitation


class Acceptance(Enum):
    NEW_ACCOUNT = auto()  # the invitee sets a password, then an authenticator
    SIGN_IN_FIRST = auto()  # an account has this e-mail: sign in as it to accept
    # An account has this e-mail but has no access any more, so it cannot sign in: the
    # link proves the mailbox, the invitee sets a new password and keeps their account.
    RETURNING = auto()


def acceptance_route(invitation: Invitation) -> Acceptance:
    existing = user_by_email(invitation.email)
    if existing is None:
        return Acceptance.NEW_ACCOUNT
    return Acceptance.SIGN_IN_FIRST if existing.is_active else Acceptance.RETURNING


def accept_with_password(
    invitation: Invitation, password: str, *, address_hash: str | None = None
) -> User:
    """A new account, or a returning person's old one, with the invited roles and the
    password chosen on the invitation page. Sign-in continues with the authenticator."""
    user = user_by_email(invitation.email)
    if user is not None and user.is_active:
        raise InvitationError("Sign in to accept this invitation")
    if user is None:
        user = User(id=uuid.uuid4(), email=invitation.email, full_name=invitation.full_name)
        _grant(invitation, user, address_hash)  # first: it flushes, and user is not added yet
        db.session.add(user)
        set_password(user, password)
    else:
        _grant(invitation, user, address_hash)
        # A returning person: old reset links die, old sessions end, they are told.
        replace_password(user, password, AuditKind.PASSWORD_RESET, address_hash)
    _add_roles(invitation, user)
    try:
        db.session.commit()
    except IntegrityError:
        # An account with this address appeared meanwhile (another invitation, accepted
        # at the same moment): nothing is saved, and the invitee signs in to accept.
        db.session.rollback()
        raise LinkAlreadyUsedError from None
    return user


def accept_as_existing_user(
    invitation: Invitation, user: User, *, address_hash: str | None = None
) -> None:
    if user.email != invitation.email:
        raise InvitationError("This invitation was sent to a different e-mail address")
    _grant(invitation, user, address_hash)
    _add_roles(invitation, user)
    db.session.commit()


def _grant(invitation: Invitation, user: User, address_hash: str | None) -> None:
    """Mark the invitation used (once only) and audit it; the roles follow."""
    use_once(Invitation.accepted_at, invitation.id)
    audit.record(
        AuditKind.INVITATION_ACCEPTED,
        actor_id=user.id,
        authority_id=invitation.authority_id,
        organisation_id=invitation.organisation_id,
        target_user_id=user.id,
        address_hash=address_hash,
        invitation_id=invitation.id,
        roles=invitation.role_values,
    )


def _add_roles(invitation: Invitation, user: User) -> None:
    if invitation.case_id is not None:
        _link_subject(invitation.case_id, invitation, user)
    place = place_of(invitation)
    for role in invitation.roles:
        # A role the user had before and lost is reactivated rather than duplicated.
        previous = next(
            (
                membership
                for membership in user.memberships
                if membership.role == role
                and is_in(membership.authority_id, membership.organisation_id, place)
            ),
            None,
        )
        if previous is not None:
            previous.deactivated_at = None
        else:
            user.memberships.append(Membership(role=role, **place_ids(place)))


def _link_subject(case_id: uuid.UUID, invitation: Invitation, user: User) -> None:
    """A subject's invitation links their account to the case (again, if it was ended)."""
    previous = next((link for link in user.subject_links if link.case_id == case_id), None)
    if previous is not None:
        previous.ended_at = None
    else:
        user.subject_links.append(
            SubjectLink(
                id=uuid.uuid4(),
                user_id=user.id,
                case_id=case_id,
                authority_id=invitation.authority_id,
            )
        )
