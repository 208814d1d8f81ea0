"""Administration: an authority's settings, staff and partner organisations, and an
organisation's own members.

A *place* is the authority or organisation a membership belongs to. The same rules
serve both: the views for an authority's staff and an organisation's members call these
functions with a different place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select

from portal import audit
from portal.access import manages_people_in, organisations_of
from portal.auth import resets
from portal.extensions import db
from portal.models import (
    AuditKind,
    Authority,
    Membership,
    Organisation,
    OrganisationAuthority,
    RecoveryCode,
    Role,
    User,
    utcnow,
)
from portal.places import Place, is_in, place_at, place_ids, place_name
from portal.sessions import end_all_sessions_for
from portal.vocabulary import MeetingName, OrganisationType, SectorGroup


class AdminError(Exception):
    """A change refused for a reason the administrator can act on; worded for them."""


def memberships_in(user: User, place: Place) -> list[Membership]:
    return [m for m in user.memberships if is_in(m.authority_id, m.organisation_id, place)]


def roles_in(user: User, place: Place) -> list[Role]:
    return sorted(
        (m.role for m in memberships_in(user, place) if m.is_active),
        key=lambda role: list(Role).index(role),
    )


def is_active_in(user: User, place: Place) -> bool:
    return any(membership.is_active for membership in memberships_in(user, place))


# Authorities


def create_authority(
    *,
    code: str,
    display_name: str,
    privacy_notice_url: str,
    meeting_name: MeetingName = MeetingName.ASV,
    minutes_working_days: int = 10,
) -> Authority:
    """A new LADO service in this deployment (an operator's job: `flask authority create`)."""
    code = code.strip().upper()
    if db.session.scalars(select(Authority).where(Authority.code == code)).first():
        raise AdminError(f"An authority with the code {code} already exists")
    authority = Authority(
        id=uuid.uuid4(),
        code=code,
        display_name=display_name.strip(),
        privacy_notice_url=privacy_notice_url.strip(),
        meeting_name=meeting_name,
        minutes_working_days=minutes_working_days,
    )
    db.session.add(authority)
    audit.record(AuditKind.AUTHORITY_CREATED, authority_id=authority.id, code=code)
    db.session.commit()
    return authority


def update_authority_settings(
    actor: User,
    authority: Authority,
    *,
    display_name: str,
    meeting_name: MeetingName,
    privacy_notice_url: str,
    minutes_working_days: int,
    contact_email: str | None = None,
    contact_phone: str | None = None,
    address_hash: str | None = None,
) -> None:
    changes = _apply(
        authority,
        display_name=display_name.strip(),
        meeting_name=meeting_name,
        privacy_notice_url=privacy_notice_url.strip(),
        minutes_working_days=minutes_working_days,
        contact_email=(contact_email or "").strip().lower() or None,
        contact_phone=(contact_phone or "").strip() or None,
    )
    if changes:
        audit.record(
            AuditKind.AUTHORITY_SETTINGS_CHANGED,
            actor_id=actor.id,
            authority_id=authority.id,
            address_hash=address_hash,
            changed=changes,
        )
    db.session.commit()


def _apply(target: Any, **values: Any) -> list[str]:
    """Set attributes; return the names of those that changed (for the audit trail)."""
    changed = []
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed.append(name)
    return sorted(changed)


# People in a place


def _active_admins(place: Place) -> int:
    admin_role = Role.AUTHORITY_ADMIN if isinstance(place, Authority) else None
    if admin_role is None:
        return -1  # organisations may have no administrator: their authority manages them
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.authority_id == place.id,
                Membership.role == admin_role,
                Membership.deactivated_at.is_(None),
            )
        )
        or 0
    )


def _check_keeps_an_admin(place: Place) -> None:
    db.session.flush()
    if _active_admins(place) == 0:
        db.session.rollback()
        raise AdminError(
            f"{place_name(place)} must keep at least one active authority administrator. "
            "Give someone else the role first"
        )


def change_roles(
    actor: User,
    target: User,
    place: Place,
    roles: Sequence[Role],
    *,
    address_hash: str | None = None,
) -> None:
    if not roles:
        raise AdminError("Select at least one role")
    if not is_active_in(target, place):
        raise AdminError("Reactivate the account before changing its roles")
    before = set(roles_in(target, place))
    wanted = set(roles)
    for membership in memberships_in(target, place):
        if membership.role not in wanted:
            target.memberships.remove(membership)  # delete-orphan removes the row
    for role in wanted - before:
        existing = next((m for m in memberships_in(target, place) if m.role == role), None)
        if existing is not None:
            existing.deactivated_at = None
        else:
            target.memberships.append(Membership(role=role, **place_ids(place)))
    _check_keeps_an_admin(place)
    if before != wanted:
        audit.record(
            AuditKind.ROLE_CHANGED,
            actor_id=actor.id,
            target_user_id=target.id,
            address_hash=address_hash,
            before=sorted(role.value for role in before),
            after=sorted(role.value for role in wanted),
            **place_ids(place),
        )
    db.session.commit()


def deactivate(actor: User, target: User, place: Place, *, address_hash: str | None = None) -> None:
    """Remove the person's access to this place. If it was their last, they are signed out
    everywhere at once (sessions live in the database)."""
    if target.id == actor.id:
        raise AdminError("You cannot deactivate your own account. Ask another administrator")
    now = utcnow()
    for membership in memberships_in(target, place):
        if membership.is_active:
            membership.deactivated_at = now
    _check_keeps_an_admin(place)
    if not target.is_active:
        end_all_sessions_for(target.id)
    audit.record(
        AuditKind.MEMBERSHIP_DEACTIVATED,
        actor_id=actor.id,
        target_user_id=target.id,
        address_hash=address_hash,
        **place_ids(place),
    )
    db.session.commit()


def reactivate(actor: User, target: User, place: Place, *, address_hash: str | None = None) -> None:
    for membership in memberships_in(target, place):
        membership.deactivated_at = None
    audit.record(
        AuditKind.MEMBERSHIP_REACTIVATED,
        actor_id=actor.id,
        target_user_id=target.id,
        address_hash=address_hash,
        **place_ids(place),
    )
    db.session.commit()


AUTHENTICATOR_RESET_LINK_LIFETIME = timedelta(hours=24)


def authenticator_reset_refusal(actor: User, target: User, place: Place) -> str | None:
    """Why this administrator may not reset this person's authenticator, if they may not.

    The app and the password belong to the whole account, so only someone who
    administers every place the person works in may reset them."""
    if target.id == actor.id:
        return "You cannot reset your own authenticator app here. Use ‘Your account’ instead"
    if not is_active_in(target, place):
        return "Reactivate the account before resetting its authenticator app"
    for membership in target.active_memberships:
        other = place_at(membership.authority_id, membership.organisation_id)
        if not manages_people_in(actor, other):
            return (
                f"{target.full_name} also works with {place_name(other)}. Ask an "
                f"administrator there, or the LADO team, to reset their authenticator app"
            )
    return None


def reset_authenticator(
    actor: User, target: User, place: Place, *, address_hash: str | None = None
) -> None:
    """For a lost phone: the person sets up a new authenticator app at their next sign-in.
    Their sessions end, so whoever holds the old phone and a session is shut out too."""
    refusal = authenticator_reset_refusal(actor, target, place)
    if refusal:
        raise AdminError(refusal)
    target.totp_secret = None
    target.totp_last_counter = None
    target.mfa_enrolled_at = None
    # The password goes too: a reset must not hand the account to whoever has phished it.
    # The e-mailed link proves the mailbox before a new password and a new app are set.
    target.password_hash = None
    target.password_changed_at = utcnow()  # ends any sign-in half done with the old one
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == target.id))
    end_all_sessions_for(target.id)
    resets.send_link(target, "authenticator_reset", AUTHENTICATOR_RESET_LINK_LIFETIME)
    audit.record(
        AuditKind.MFA_RESET,
        actor_id=actor.id,
        target_user_id=target.id,
        address_hash=address_hash,
        **place_ids(place),
    )
    db.session.commit()


# Partner organisations


def organisation_named(name: str) -> Organisation | None:
    return db.session.scalars(
        select(Organisation).where(func.lower(Organisation.name) == name.strip().lower())
    ).first()


def create_organisation(
    actor: User,
    authority: Authority,
    *,
    name: str,
    type: OrganisationType,
    sector: SectorGroup,
    address_hash: str | None = None,
) -> Organisation:
    """A new organisation in the deployment, working with this authority."""
    if organisation_named(name) is not None:
        raise AdminError(
            f"An organisation called ‘{name.strip()}’ is already in the portal. Add it from "
            "the list of existing organisations instead"
        )
    organisation = Organisation(id=uuid.uuid4(), name=name.strip(), type=type, sector=sector)
    db.session.add(organisation)
    _link(
        actor,
        authority,
        organisation,
        AuditKind.ORGANISATION_CREATED,
        address_hash,
        manages_accounts=True,
    )
    return organisation


def organisations_not_linked(authority: Authority) -> Sequence[Organisation]:
    linked = select(OrganisationAuthority.organisation_id).where(
        OrganisationAuthority.authority_id == authority.id
    )
    return db.session.scalars(
        select(Organisation).where(Organisation.id.not_in(linked)).order_by(Organisation.name)
    ).all()


def link_organisation(
    actor: User,
    authority: Authority,
    organisation: Organisation,
    *,
    address_hash: str | None = None,
) -> None:
    already = db.session.get(OrganisationAuthority, (organisation.id, authority.id))
    if already is not None:
        raise AdminError(f"{organisation.name} already works with {authority.display_name}")
    _link(actor, authority, organisation, AuditKind.ORGANISATION_LINKED, address_hash)


def _link(
    actor: User,
    authority: Authority,
    organisation: Organisation,
    kind: AuditKind,
    address_hash: str | None,
    *,
    manages_accounts: bool = False,
) -> None:
    db.session.add(
        OrganisationAuthority(
            organisation_id=organisation.id,
            authority_id=authority.id,
            manages_accounts=manages_accounts,
        )
    )
    audit.record(
        kind,
        actor_id=actor.id,
        authority_id=authority.id,
        organisation_id=organisation.id,
        address_hash=address_hash,
    )
    db.session.commit()


def update_organisation(
    actor: User,
    organisation: Organisation,
    *,
    name: str,
    type: OrganisationType,
    sector: SectorGroup,
    address_hash: str | None = None,
) -> None:
    same_name = organisation_named(name)
    if same_name is not None and same_name.id != organisation.id:
        raise AdminError(f"Another organisation is already called ‘{name.strip()}’")
    changes = _apply(organisation, name=name.strip(), type=type, sector=sector)
    if changes:
        audit.record(
            AuditKind.ORGANISATION_UPDATED,
            actor_id=actor.id,
            organisation_id=organisation.id,
            address_hash=address_hash,
            changed=changes,
        )
    db.session.commit()


def linked_organisations(authority: Authority) -> Sequence[Organisation]:
    return db.session.scalars(organisations_of(authority)).all()


def account_managers(organisations: Iterable[Organisation]) -> dict[uuid.UUID, Authority]:
    """Which authority looks after each organisation's accounts."""
    ids = [organisation.id for organisation in organisations]
    rows = db.session.execute(
        select(OrganisationAuthority.organisation_id, Authority)
        .join(Authority, Authority.id == OrganisationAuthority.authority_id)
        .where(
            OrganisationAuthority.organisation_id.in_(ids),
            OrganisationAuthority.manages_accounts.is_(True),
        )
    ).all()
    return {organisation_id: authority for organisation_id, authority in rows}


def member_counts(organisations: Iterable[Organisation]) -> dict[uuid.UUID, int]:
    ids = [organisation.id for organisation in organisations]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Membership.organisation_id, func.count(func.distinct(Membership.user_id)))
        .where(Membership.organisation_id.in_(ids), Membership.deactivated_at.is_(None))
        .group_by(Membership.organisation_id)
    ).all()
    return {organisation_id: count for organisation_id, count in rows if organisation_id}
