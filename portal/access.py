"""Who may see and do what. The only module that knows which role may do what.

Every view declares one access rule with a decorator from here:

- ``@public``: anyone, signed in or not (sign-in, health check, static pages);
- ``@signed_in``: any signed-in user, acting on their own account;
- ``@requires(Permission.X)``: a permission held in the authority or organisation named
  by the URL (``authority_id`` / ``organisation_id``). The decorator resolves that id to
  the object through the scoped helpers below and passes it to the view with the user.

``enforce_access`` runs before every request and refuses any endpoint without a rule
(deny by default); a test walks ``app.url_map`` so such an endpoint never ships.

Scoping: an object the user has no relation with answers 404, never 403, so a user of one
tenant cannot even learn that another tenant's objects exist. 403 is kept for "you are in
this authority or organisation, but your role may not do this".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any, Final, NoReturn, TypeVar, cast
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, Table, exists, or_, select
from sqlalchemy.orm import selectinload

from portal import keystore
from portal.crypto.fields import logical_table
from portal.extensions import db
from portal.models import (
    Authority,
    Case,
    CaseStatus,
    DestructionBatch,
    InformationRequest,
    Invitation,
    Meeting,
    MeetingInvitee,
    Membership,
    Organisation,
    OrganisationAuthority,
    PublishedUpdate,
    Role,
    SubjectLink,
    UpdateRecipient,
    User,
)
from portal.redaction import Audience

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


class Permission(StrEnum):
    """Permissions are named ``scope:resource:action`` (Warehouse's habit)."""

    AUTHORITY_SETTINGS_MANAGE = "authority:settings:manage"
    AUTHORITY_STAFF_MANAGE = "authority:staff:manage"
    AUTHORITY_ORGANISATIONS_MANAGE = "authority:organisations:manage"
    ORGANISATION_DETAILS_MANAGE = "organisation:details:manage"
    ORGANISATION_MEMBERS_MANAGE = "organisation:members:manage"
    ORGANISATION_REFERRALS = "organisation:referrals:submit"
    # The checklists the LADO asks the organisation to answer before a meeting.
    ORGANISATION_REQUESTS_ANSWER = "organisation:requests:answer"
    AUTHORITY_CONTACTS_LOG = "authority:contacts:log"
    # The queue and the case pages; arranging and recording what the team does.
    AUTHORITY_CASES_WORK = "authority:cases:work"
    # Threshold decisions, outcomes, closing and reopening: the LADO's own judgements.
    AUTHORITY_CASES_DECIDE = "authority:cases:decide"
    # Who looked at what: the audit trail of the authority's cases.
    AUTHORITY_AUDIT_VIEW = "authority:audit:view"
    # The annual report and the timeliness figures (counts only, nothing of a case).
    AUTHORITY_REPORTS_VIEW = "authority:reports:view"
    # Legal holds, destroying records past their retention, subject access requests.
    AUTHORITY_RECORDS_MANAGE = "authority:records:manage"

    @property
    def scope(self) -> str:
        return self.value.split(":", 1)[0]


ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.LADO: frozenset(
        {
            Permission.AUTHORITY_CONTACTS_LOG,
            Permission.AUTHORITY_CASES_WORK,
            Permission.AUTHORITY_CASES_DECIDE,
            Permission.AUTHORITY_REPORTS_VIEW,
        }
    ),
    Role.LADO_MANAGER: frozenset(
        {
            Permission.AUTHORITY_CONTACTS_LOG,
            Permission.AUTHORITY_CASES_WORK,
            Permission.AUTHORITY_CASES_DECIDE,
            Permission.AUTHORITY_AUDIT_VIEW,
            Permission.AUTHORITY_REPORTS_VIEW,
            Permission.AUTHORITY_RECORDS_MANAGE,
        }
    ),
    Role.BUSINESS_SUPPORT: frozenset(
        {
            Permission.AUTHORITY_CONTACTS_LOG,
            Permission.AUTHORITY_CASES_WORK,
            Permission.AUTHORITY_REPORTS_VIEW,
        }
    ),
    Role.AUTHORITY_ADMIN: frozenset(
        {
            Permission.AUTHORITY_SETTINGS_MANAGE,
            Permission.AUTHORITY_STAFF_MANAGE,
            Permission.AUTHORITY_ORGANISATIONS_MANAGE,
            Permission.AUTHORITY_REPORTS_VIEW,
            Permission.AUTHORITY_AUDIT_VIEW,
        }
    ),
    Role.PARTNER_MEMBER: frozenset(
        {Permission.ORGANISATION_REFERRALS, Permission.ORGANISATION_REQUESTS_ANSWER}
    ),
    Role.ORGANISATION_ADMIN: frozenset({Permission.ORGANISATION_MEMBERS_MANAGE}),
}

# Organisation permissions that an authority permission grants over the organisations
# whose accounts that authority manages (the one that added the organisation).
GRANTED_BY_LINKED_AUTHORITY: Final[dict[Permission, Permission]] = {
    Permission.ORGANISATION_DETAILS_MANAGE: Permission.AUTHORITY_ORGANISATIONS_MANAGE,
    Permission.ORGANISATION_MEMBERS_MANAGE: Permission.AUTHORITY_ORGANISATIONS_MANAGE,
}

# Which roles a holder of a management permission may hand out.
ASSIGNABLE_ROLES: Final[dict[Permission, tuple[Role, ...]]] = {
    Permission.AUTHORITY_STAFF_MANAGE: (
        Role.LADO,
        Role.LADO_MANAGER,
        Role.BUSINESS_SUPPORT,
        Role.AUTHORITY_ADMIN,
    ),
    Permission.ORGANISATION_MEMBERS_MANAGE: (Role.PARTNER_MEMBER, Role.ORGANISATION_ADMIN),
}

PUBLIC: Final = "public"
SIGNED_IN: Final = "signed_in"
SUBJECT: Final = "subject"
AccessRule = str  # PUBLIC, SIGNED_IN, SUBJECT or a Permission
# Besides their own pages, a subject reaches only these: signing in and out, their
# account (password, authenticator), and the home page that sends them to their cases.
SUBJECT_MAY_ALSO_REACH: Final = ("auth.", "main.home")
ACCESS_RULE_ATTRIBUTE: Final = "access_rule"


def access_rule_of(view: Callable[..., Any]) -> AccessRule | None:
    return cast(AccessRule | None, getattr(view, ACCESS_RULE_ATTRIBUTE, None))


def public(view: View) -> View:
    setattr(view, ACCESS_RULE_ATTRIBUTE, PUBLIC)
    return view


def signed_in(view: View) -> View:
    """Any signed-in user; the view receives them as ``user``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        return view(*args, user=_signed_in_user(), **kwargs)

    setattr(wrapped, ACCESS_RULE_ATTRIBUTE, SIGNED_IN)
    return cast(View, wrapped)


def subject_page(view: View) -> View:
    """A page for a subject (a signed-in user with no role, linked to cases); 404 for
    anyone else. The view receives them as ``user``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        user = _signed_in_user()
        if not user.is_subject:
            _not_found()
        return view(*args, user=user, **kwargs)

    setattr(wrapped, ACCESS_RULE_ATTRIBUTE, SUBJECT)
    return cast(View, wrapped)


def requires(permission: Permission) -> Callable[[View], View]:
    """The permission, held in the authority or organisation the URL names."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(**kwargs: Any) -> ResponseReturnValue:
            user = _signed_in_user()
            if permission.scope == "authority":
                kwargs["authority"] = authority_for(user, kwargs.pop("authority_id"), permission)
            else:
                kwargs["organisation"] = organisation_for(
                    user, kwargs.pop("organisation_id"), permission
                )
            return view(user=user, **kwargs)

        setattr(wrapped, ACCESS_RULE_ATTRIBUTE, permission)
        return cast(View, wrapped)

    return decorator


def _signed_in_user() -> User:
    # enforce_access has already turned anonymous requests away.
    user = current_user._get_current_object()
    if not isinstance(user, User):
        abort(403)
    return user


def enforce_access() -> ResponseReturnValue | None:
    """before_request: deny by default, and send anonymous users to sign in."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404
    if request.endpoint == "static":
        return None
    view = current_app.view_functions[request.endpoint]
    rule = access_rule_of(view)
    if rule is None:
        abort(403)
    if current_user.is_authenticated and current_user.is_subject:
        # Every other page is not there for a subject.
        if rule in (PUBLIC, SUBJECT) or request.endpoint.startswith(SUBJECT_MAY_ALSO_REACH):
            return None
        abort(404)
    if rule == PUBLIC or current_user.is_authenticated:
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.sign_in", next=target))


def install(app: Flask) -> None:
    app.before_request(enforce_access)


# Permission checks


def permissions_in(
    user: User, *, authority_id: uuid.UUID | None = None, organisation_id: uuid.UUID | None = None
) -> frozenset[Permission]:
    """Everything the user's active memberships allow in one authority or organisation."""
    granted: set[Permission] = set()
    for membership in user.active_memberships:
        if (authority_id is not None and membership.authority_id == authority_id) or (
            organisation_id is not None and membership.organisation_id == organisation_id
        ):
            granted |= ROLE_PERMISSIONS[membership.role]
    return frozenset(granted)


def authorities_where(user: User, permission: Permission) -> list[uuid.UUID]:
    return sorted(
        {
            membership.authority_id
            for membership in user.active_memberships
            if membership.authority_id is not None
            and permission in ROLE_PERMISSIONS[membership.role]
        }
    )


def organisations_where(user: User, permission: Permission) -> list[uuid.UUID]:
    """Organisations where the user's own membership grants the permission."""
    return sorted(
        {
            membership.organisation_id
            for membership in user.active_memberships
            if membership.organisation_id is not None
            and permission in ROLE_PERMISSIONS[membership.role]
        }
    )


def assignable_roles(permission: Permission) -> tuple[Role, ...]:
    return ASSIGNABLE_ROLES[permission]


def _not_found() -> NoReturn:
    abort(404)


# Scoped look-ups: the only way views and services reach tenant data.


def authority_for(user: User, authority_id: uuid.UUID, permission: Permission) -> Authority:
    """The authority, if the user holds ``permission`` there; 404 if they have no role there."""
    if not any(m.authority_id == authority_id for m in user.active_memberships):
        _not_found()
    if permission not in permissions_in(user, authority_id=authority_id):
        abort(403)
    return db.session.get(Authority, authority_id) or _not_found()


def organisation_for(
    user: User, organisation_id: uuid.UUID, permission: Permission
) -> Organisation:
    """The organisation, if the user holds ``permission`` there directly or through an
    authority the organisation works with; 404 if they have no relation with it."""
    organisation = db.session.get(Organisation, organisation_id) or _not_found()
    if holds_in_organisation(user, organisation, permission):
        return organisation
    if any(m.organisation_id == organisation_id for m in user.active_memberships):
        abort(403)
    _not_found()


def holds_in_organisation(user: User, organisation: Organisation, permission: Permission) -> bool:
    """Directly, or as an administrator of the authority that manages its accounts."""
    if permission in permissions_in(user, organisation_id=organisation.id):
        return True
    granting = GRANTED_BY_LINKED_AUTHORITY.get(permission)
    return granting is not None and any(
        granting in permissions_in(user, authority_id=authority_id)
        for authority_id in managing_authorities(organisation)
    )


def managing_authorities(organisation: Organisation) -> list[uuid.UUID]:
    return list(
        db.session.scalars(
            select(OrganisationAuthority.authority_id).where(
                OrganisationAuthority.organisation_id == organisation.id,
                OrganisationAuthority.manages_accounts.is_(True),
            )
        )
    )


def manages_people_in(user: User, place: Authority | Organisation) -> bool:
    """Whether the user administers the accounts of this authority or organisation."""
    if isinstance(place, Authority):
        return Permission.AUTHORITY_STAFF_MANAGE in permissions_in(user, authority_id=place.id)
    return holds_in_organisation(user, place, Permission.ORGANISATION_MEMBERS_MANAGE)


def staff_of(authority: Authority) -> Select[User]:
    """Users with a role (active or not) in the authority. (Names are encrypted, so
    lists are put in order after decryption, not by the database.)"""
    members = select(Membership.user_id).where(Membership.authority_id == authority.id)
    # Their memberships come too: lists of staff ask each one's roles.
    return select(User).where(User.id.in_(members)).options(selectinload(User.memberships))


def staff_by_id(authority: Authority) -> dict[uuid.UUID, User]:
    """The authority's staff by id: for naming who did what on a page."""
    return {user.id: user for user in db.session.scalars(staff_of(authority))}


def staff_names(
    authority: Authority, permission: Permission
) -> tuple[dict[uuid.UUID, str], set[uuid.UUID]]:
    """The names of everyone with a role in the authority (active or not), and which of
    them hold ``permission`` there now. Read as plain rows in one query, not as
    accounts: the queue names its officers on every page."""
    users, memberships = cast(Table, User.__table__), cast(Table, Membership.__table__)
    name = User.full_name
    rows = db.session.execute(
        select(
            users.c.id,
            users.c[name.column or "full_name"].label("sealed_name"),
            memberships.c.role,
            memberships.c.deactivated_at,
        )
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.authority_id == authority.id)
    )
    keys, table = keystore.keys(), logical_table(User)
    names: dict[uuid.UUID, str] = {}
    holders: set[uuid.UUID] = set()
    for row in rows:
        if row.id not in names:
            names[row.id] = name.open(keys, table, str(row.id), row.sealed_name)
        if row.deactivated_at is None and permission in ROLE_PERMISSIONS[row.role]:
            holders.add(row.id)
    return names, holders


def ladoes_of(authority: Authority) -> list[User]:
    """The authority's LADOs and LADO managers with an active role: who another
    authority asks about a record, and who hears of a case transferred in."""
    return [
        user
        for user in db.session.scalars(staff_of(authority))
        if any(
            m.role in (Role.LADO, Role.LADO_MANAGER) and m.authority_id == authority.id
            for m in user.active_memberships
        )
    ]


def members_of(organisation: Organisation) -> Select[User]:
    members = select(Membership.user_id).where(Membership.organisation_id == organisation.id)
    return select(User).where(User.id.in_(members))


def staff_member_or_404(authority: Authority, user_id: uuid.UUID) -> User:
    return db.session.scalars(staff_of(authority).where(User.id == user_id)).first() or _not_found()


def member_or_404(organisation: Organisation, user_id: uuid.UUID) -> User:
    user = db.session.scalars(members_of(organisation).where(User.id == user_id)).first()
    return user or _not_found()


def pending_invitations(place: Authority | Organisation) -> Select[Invitation]:
    scope = (
        Invitation.authority_id == place.id
        if isinstance(place, Authority)
        else Invitation.organisation_id == place.id
    )
    return (
        select(Invitation)
        .where(
            scope,
            Invitation.case_id.is_(None),  # a subject's is the case's, not the people page's
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at.desc())
    )


def invitation_or_404(place: Authority | Organisation, invitation_id: uuid.UUID) -> Invitation:
    query = pending_invitations(place).where(Invitation.id == invitation_id)
    return db.session.scalars(query).first() or _not_found()


def organisations_of(authority: Authority) -> Select[Organisation]:
    """The organisations that work with the authority (managed by it or not)."""
    return (
        select(Organisation)
        .join(OrganisationAuthority, OrganisationAuthority.organisation_id == Organisation.id)
        .where(OrganisationAuthority.authority_id == authority.id)
        .order_by(Organisation.name)
    )


def is_safe_next(target: str | None) -> bool:
    """``next=`` may only point at a path on this site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(character.isspace() or ord(character) < 32 for character in unquote(target)):
        return False  # a header-splitting or look-alike path
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target


# Cases


def referrals_of(organisation: Organisation) -> Select[Case]:
    """The cases a partner organisation may see: those it referred (or that the LADO's
    team linked to it), never the team's own drafts."""
    return select(Case).where(
        Case.organisation_id == organisation.id,
        (Case.logged.is_(False)) | (Case.status != CaseStatus.DRAFT),
        Case.destroyed_at.is_(None),
    )


def referral_or_404(organisation: Organisation, case_id: uuid.UUID) -> Case:
    case = db.session.scalars(referrals_of(organisation).where(Case.id == case_id)).first()
    return case or _not_found()


def _logged_contacts(authority: Authority) -> Select[Case]:
    """The contacts the authority's team is logging or has logged."""
    return select(Case).where(Case.authority_id == authority.id, Case.logged.is_(True))


def contacts_being_logged(authority: Authority) -> Select[Case]:
    """The contacts the authority's team has started logging and not yet added to the
    queue: listed where a contact is started, so none is lost when someone leaves it."""
    return _logged_contacts(authority).where(Case.status == CaseStatus.DRAFT)


def logged_contact_or_404(authority: Authority, case_id: uuid.UUID) -> Case:
    """A contact the authority's team is logging (or has logged)."""
    case = db.session.scalars(_logged_contacts(authority).where(Case.id == case_id)).first()
    return case or _not_found()


def cases_of(authority: Authority, *, destroyed: bool = False) -> Select[Case]:
    """An authority's cases once sent: its queue and case pages. (Drafts belong to the
    people writing them.) Cases destroyed at the end of their retention only when asked
    for: nothing of them is left to work on."""
    query = select(Case).where(Case.authority_id == authority.id, Case.status != CaseStatus.DRAFT)
    return query if destroyed else query.where(Case.destroyed_at.is_(None))


def case_or_404(authority: Authority, case_id: uuid.UUID, *, destroyed: bool = False) -> Case:
    found = cases_of(authority, destroyed=destroyed).where(Case.id == case_id)
    return db.session.scalars(found).first() or _not_found()


def _case_kept(case_id: Any) -> ColumnElement[bool]:
    """The row's case has not been destroyed (its meetings and requests go with it)."""
    return ~exists().where(Case.id == case_id, Case.destroyed_at.is_not(None))


def destruction_batch_or_404(authority: Authority, batch_id: uuid.UUID) -> DestructionBatch:
    found = select(DestructionBatch).where(
        DestructionBatch.id == batch_id, DestructionBatch.authority_id == authority.id
    )
    return db.session.scalars(found).first() or _not_found()


def meetings_of(case: Case) -> Select[Meeting]:
    """A case's meetings (the case found already through case_or_404)."""
    return select(Meeting).where(
        Meeting.case_id == case.id, Meeting.authority_id == case.authority_id
    )


def meeting_or_404(case: Case, meeting_id: uuid.UUID) -> Meeting:
    meeting = db.session.scalars(meetings_of(case).where(Meeting.id == meeting_id)).first()
    return meeting or _not_found()


def invited_meetings_of(organisation: Organisation, user: User) -> Select[Meeting]:
    """The meetings the user is invited to as one of the organisation's people: the
    whole organisation, or them by name. Their time and place, the actions given to the
    organisation or to them and the minutes once sent are theirs to read."""
    invited = select(MeetingInvitee.meeting_id).where(
        MeetingInvitee.organisation_id == organisation.id,
        or_(MeetingInvitee.user_id.is_(None), MeetingInvitee.user_id == user.id),
    )
    return select(Meeting).where(Meeting.id.in_(invited), _case_kept(Meeting.case_id))


def invited_meeting_or_404(
    organisation: Organisation, user: User, meeting_id: uuid.UUID
) -> Meeting:
    meeting = db.session.scalars(
        invited_meetings_of(organisation, user).where(Meeting.id == meeting_id)
    ).first()
    return meeting or _not_found()


def updates_for(organisation: Organisation, case_id: uuid.UUID) -> Select[PublishedUpdate]:
    """The texts of a case's updates the LADO published to the organisation, newest
    first: only these, never the original or another audience's text."""
    reached = select(UpdateRecipient.published_update_id).where(
        UpdateRecipient.organisation_id == organisation.id, UpdateRecipient.case_id == case_id
    )
    return (
        select(PublishedUpdate)
        .where(PublishedUpdate.id.in_(reached))
        .order_by(PublishedUpdate.published_at.desc())
    )


def subject_cases_of(user: User) -> Select[Case]:
    """The cases a subject's account is linked to (and not ended): all they may read."""
    linked = select(SubjectLink.case_id).where(
        SubjectLink.user_id == user.id, SubjectLink.ended_at.is_(None)
    )
    return select(Case).where(Case.id.in_(linked)).order_by(Case.received_at.desc())


def subject_case_or_404(user: User, case_id: uuid.UUID) -> Case:
    found = db.session.scalars(subject_cases_of(user).where(Case.id == case_id)).first()
    return found or _not_found()


def updates_for_subject(case: Case) -> Select[PublishedUpdate]:
    """What was published to the subject audience on the case, newest first."""
    return (
        select(PublishedUpdate)
        .where(PublishedUpdate.case_id == case.id, PublishedUpdate.audience == Audience.SUBJECT)
        .order_by(PublishedUpdate.published_at.desc())
    )


def requests_of(organisation: Organisation) -> Select[InformationRequest]:
    """What the LADO has asked the organisation for: only these, and of the case only
    its reference and the meeting's date, are its users' to see."""
    return select(InformationRequest).where(
        InformationRequest.organisation_id == organisation.id,
        _case_kept(InformationRequest.case_id),
    )


def request_or_404(organisation: Organisation, request_id: uuid.UUID) -> InformationRequest:
    found = db.session.scalars(
        requests_of(organisation).where(InformationRequest.id == request_id)
    ).first()
    return found or _not_found()


def authorities_for_referral(organisation: Organisation) -> list[Authority]:
    """Where a partner may refer: every authority of the deployment (the adult's work
    decides, not the organisation's links), those it works with first."""
    linked = {authority.id for authority in organisation.authorities}
    everyone = db.session.scalars(select(Authority).order_by(Authority.display_name)).all()
    return sorted(everyone, key=lambda authority: authority.id not in linked)
