"""The people pages shared by an authority's staff and an organisation's members.

views.py routes each handler once per section under that section's permission; the
``requires`` decorator has already checked access and passes the place (``authority``
or ``organisation``) in. Each handler renders or redirects.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from portal import access
from portal.access import Permission
from portal.admin import service
from portal.admin.forms import ConfirmForm, InviteForm, RolesForm
from portal.admin.service import AdminError
from portal.auth import invitations, mfa
from portal.auth.views import address_hash
from portal.extensions import db
from portal.models import Authority, Organisation, User
from portal.places import Place, place_name

STAFF = Permission.AUTHORITY_STAFF_MANAGE
MEMBERS = Permission.ORGANISATION_MEMBERS_MANAGE
ACTIONS = {
    "deactivate": "Deactivate",
    "reactivate": "Reactivate",
    "reset-authenticator": "Reset authenticator app",
}


PAGES = {
    "people": "",
    "invite": "_invite",
    "person": "_person",
    "action": "_person_action",
    "invitation": "_invitation_action",
}


def url_for_place(place: Place, page: str, **values: Any) -> str:
    """URLs for the people pages of either kind of place."""
    if isinstance(place, Authority):
        return url_for(f"admin.staff{PAGES[page]}", authority_id=place.id, **values)
    return url_for(f"admin.members{PAGES[page]}", organisation_id=place.id, **values)


def _place(scope: dict[str, Any]) -> Place:
    place = scope.get("authority") or scope.get("organisation")
    if not isinstance(place, (Authority, Organisation)):
        raise TypeError("a people page was routed without its access decorator")
    return place


def _permission(place: Place) -> Permission:
    return STAFF if isinstance(place, Authority) else MEMBERS


def _context(place: Place) -> dict[str, Any]:
    return {
        "place": place,
        "place_name": place_name(place),
        "is_authority": isinstance(place, Authority),
        "place_url": lambda page, **values: url_for_place(place, page, **values),
    }


def list_people(user: User, **scope: Any) -> ResponseReturnValue:
    place = _place(scope)
    query = access.staff_of(place) if isinstance(place, Authority) else access.members_of(place)
    people = sorted(db.session.scalars(query).all(), key=lambda person: person.full_name.casefold())
    pending = db.session.scalars(access.pending_invitations(place)).all()
    return render_template(
        "admin/people.html",
        people=[
            {
                "user": person,
                "roles": service.roles_in(person, place),
                "active": service.is_active_in(person, place),
            }
            for person in people
        ],
        invitations=pending,
        confirm_form=ConfirmForm(),
        **_context(place),
    )


def invite_person(user: User, **scope: Any) -> ResponseReturnValue:
    place = _place(scope)
    form = InviteForm(roles=access.assignable_roles(_permission(place)))
    if form.validate_on_submit():
        try:
            invitations.invite(
                actor=user,
                email=form.email.data,
                full_name=form.full_name.data,
                roles=form.chosen_roles,
                place=place,
                address_hash=address_hash(),
            )
        except invitations.InvitationError as error:
            form.email.errors = [str(error)]
        else:
            flash(
                f"Invitation sent to {form.full_name.data.strip()}. The link works for 72 hours.",
                "success",
            )
            return redirect(url_for_place(place, "people"))
    return render_template("admin/invite.html", form=form, **_context(place))


def person(user: User, user_id: uuid.UUID, **scope: Any) -> ResponseReturnValue:
    place = _place(scope)
    target = _person_in(place, user_id)
    current_roles = service.roles_in(target, place)
    form = RolesForm(
        roles=access.assignable_roles(_permission(place)),
        data={"roles": [role.value for role in current_roles]},
    )
    if form.validate_on_submit():
        try:
            service.change_roles(
                user, target, place, form.chosen_roles, address_hash=address_hash()
            )
        except AdminError as error:
            form.roles.errors = [str(error)]
        else:
            flash(f"Roles for {target.full_name} saved.", "success")
            return redirect(url_for_place(place, "person", user_id=target.id))
    return render_template(
        "admin/person.html",
        form=form,
        person=target,
        roles=current_roles,
        active=service.is_active_in(target, place),
        recovery_codes_left=mfa.unused_recovery_codes(target),
        is_self=target.id == user.id,
        **_context(place),
    )


def person_action(user: User, user_id: uuid.UUID, action: str, **scope: Any) -> ResponseReturnValue:
    """Deactivate, reactivate or reset an authenticator: a confirmation page, then POST."""
    place = _place(scope)
    target = _person_in(place, user_id)
    form = ConfirmForm()
    error = None
    refusal = (
        service.authenticator_reset_refusal(user, target, place)
        if action == "reset-authenticator"
        else None
    )
    if form.validate_on_submit():
        change = {
            "deactivate": service.deactivate,
            "reactivate": service.reactivate,
            "reset-authenticator": service.reset_authenticator,
        }[action]
        try:
            change(user, target, place, address_hash=address_hash())
        except AdminError as refused:
            error = str(refused)
        else:
            flash(_done_message(action, target), "success")
            return redirect(url_for_place(place, "person", user_id=target.id))
    return render_template(
        "admin/person_action.html",
        form=form,
        person=target,
        action=action,
        action_label=ACTIONS[action],
        error=error,
        refusal=refusal,
        **_context(place),
    )


def _person_in(place: Place, user_id: uuid.UUID) -> User:
    if isinstance(place, Authority):
        return access.staff_member_or_404(place, user_id)
    return access.member_or_404(place, user_id)


def _done_message(action: str, target: User) -> str:
    return {
        "deactivate": f"{target.full_name} can no longer sign in here.",
        "reactivate": f"{target.full_name} can sign in again.",
        "reset-authenticator": (
            f"{target.full_name} has been signed out and sent an email to set a new "
            "password and authenticator app."
        ),
    }[action]


def invitation_action(
    user: User, invitation_id: uuid.UUID, action: str, **scope: Any
) -> ResponseReturnValue:
    place = _place(scope)
    invitation = access.invitation_or_404(place, invitation_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        if action == "resend":
            invitations.resend(invitation, actor=user, address_hash=address_hash())
            flash(f"A new invitation has been sent to {invitation.full_name}.", "success")
        else:
            invitations.revoke(invitation, actor=user, address_hash=address_hash())
            flash(f"The invitation to {invitation.full_name} has been cancelled.", "success")
    return redirect(url_for_place(place, "people"))
