"""Administration pages. An authority's staff and an organisation's members are the same
pages over a different *place*: each route below declares its own access rule, then hands
over to the shared handler in people.py."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from portal import access
from portal.access import Permission, requires, signed_in
from portal.admin import bp, people, service
from portal.admin.forms import AuthoritySettingsForm, LinkOrganisationForm, OrganisationForm
from portal.auth.views import address_hash
from portal.extensions import db
from portal.models import Authority, Organisation, User
from portal.vocabulary import MeetingName, OrganisationType, SectorGroup

STAFF = Permission.AUTHORITY_STAFF_MANAGE
MEMBERS = Permission.ORGANISATION_MEMBERS_MANAGE
PERSON_ACTIONS = '<any("deactivate", "reactivate", "reset-authenticator"):action>'
INVITATION_ACTIONS = '<any("resend", "cancel"):action>'


@bp.route("/administration")
@signed_in
def index(user: User) -> ResponseReturnValue:
    """Where the administrator of several places chooses one."""
    authorities = [
        db.session.get(Authority, authority_id)
        for authority_id in access.authorities_where(user, STAFF)
    ]
    organisations = [
        db.session.get(Organisation, organisation_id)
        for organisation_id in access.organisations_where(user, MEMBERS)
    ]
    places = [*authorities, *organisations]
    if len(places) == 1:
        return redirect(people.url_for_place(places[0], "people"))
    return render_template("admin/index.html", authorities=authorities,
                           organisations=organisations)


# An authority's settings


@bp.route("/authorities/<uuid:authority_id>/settings", methods=["GET", "POST"])
@requires(Permission.AUTHORITY_SETTINGS_MANAGE)
def authority_settings(user: User, authority: Authority) -> ResponseReturnValue:
    form = AuthoritySettingsForm(
        data={
            "display_name": authority.display_name,
            "meeting_name": authority.meeting_name.value,
            "privacy_notice_url": authority.privacy_notice_url,
            "minutes_working_days": str(authority.minutes_working_days),
        }
    )
    if form.validate_on_submit():
        service.update_authority_settings(
            user,
            authority,
            display_name=form.display_name.data,
            meeting_name=MeetingName(form.meeting_name.data),
            privacy_notice_url=form.privacy_notice_url.data,
            minutes_working_days=int(form.minutes_working_days.data),
            address_hash=address_hash(),
        )
        flash("Settings saved.", "success")
        return redirect(url_for("admin.authority_settings", authority_id=authority.id))
    return render_template("admin/authority_settings.html", form=form, authority=authority)


# An authority's staff


@bp.route("/authorities/<uuid:authority_id>/staff")
@requires(STAFF)
def staff(user: User, authority: Authority) -> ResponseReturnValue:
    return people.list_people(user, authority)


@bp.route("/authorities/<uuid:authority_id>/staff/invite", methods=["GET", "POST"])
@requires(STAFF)
def staff_invite(user: User, authority: Authority) -> ResponseReturnValue:
    return people.invite_person(user, authority, STAFF)


@bp.route("/authorities/<uuid:authority_id>/staff/<uuid:user_id>", methods=["GET", "POST"])
@requires(STAFF)
def staff_member(user: User, authority: Authority, user_id: uuid.UUID) -> ResponseReturnValue:
    return people.person(user, authority, STAFF, access.staff_member_or_404(authority, user_id))


@bp.route("/authorities/<uuid:authority_id>/staff/<uuid:user_id>/" + PERSON_ACTIONS,
          methods=["GET", "POST"])
@requires(STAFF)
def staff_member_action(
    user: User, authority: Authority, user_id: uuid.UUID, action: str
) -> ResponseReturnValue:
    target = access.staff_member_or_404(authority, user_id)
    return people.person_action(user, authority, target, action)


@bp.route("/authorities/<uuid:authority_id>/invitations/<uuid:invitation_id>/"
          + INVITATION_ACTIONS, methods=["POST"])
@requires(STAFF)
def staff_invitation_action(
    user: User, authority: Authority, invitation_id: uuid.UUID, action: str
) -> ResponseReturnValue:
    invitation = access.invitation_or_404(authority, invitation_id)
    return people.invitation_action(user, authority, invitation, action)


# An organisation's members: the same pages, for organisation administrators and for the
# administrators of authorities the organisation works with.


@bp.route("/organisations/<uuid:organisation_id>/members")
@requires(MEMBERS)
def members(user: User, organisation: Organisation) -> ResponseReturnValue:
    return people.list_people(user, organisation)


@bp.route("/organisations/<uuid:organisation_id>/members/invite", methods=["GET", "POST"])
@requires(MEMBERS)
def members_invite(user: User, organisation: Organisation) -> ResponseReturnValue:
    return people.invite_person(user, organisation, MEMBERS)


@bp.route("/organisations/<uuid:organisation_id>/members/<uuid:user_id>",
          methods=["GET", "POST"])
@requires(MEMBERS)
def member(user: User, organisation: Organisation, user_id: uuid.UUID) -> ResponseReturnValue:
    return people.person(user, organisation, MEMBERS, access.member_or_404(organisation, user_id))


@bp.route("/organisations/<uuid:organisation_id>/members/<uuid:user_id>/" + PERSON_ACTIONS,
          methods=["GET", "POST"])
@requires(MEMBERS)
def member_action(
    user: User, organisation: Organisation, user_id: uuid.UUID, action: str
) -> ResponseReturnValue:
    target = access.member_or_404(organisation, user_id)
    return people.person_action(user, organisation, target, action)


@bp.route("/organisations/<uuid:organisation_id>/invitations/<uuid:invitation_id>/"
          + INVITATION_ACTIONS, methods=["POST"])
@requires(MEMBERS)
def members_invitation_action(
    user: User, organisation: Organisation, invitation_id: uuid.UUID, action: str
) -> ResponseReturnValue:
    invitation = access.invitation_or_404(organisation, invitation_id)
    return people.invitation_action(user, organisation, invitation, action)


# Partner organisations of an authority


@bp.route("/authorities/<uuid:authority_id>/organisations")
@requires(Permission.AUTHORITY_ORGANISATIONS_MANAGE)
def organisations(user: User, authority: Authority) -> ResponseReturnValue:
    linked = service.linked_organisations(authority)
    return render_template(
        "admin/organisations.html",
        authority=authority,
        organisations=linked,
        member_counts=service.member_counts(linked),
        can_add_existing=bool(service.organisations_not_linked(authority)),
    )


@bp.route("/authorities/<uuid:authority_id>/organisations/new", methods=["GET", "POST"])
@requires(Permission.AUTHORITY_ORGANISATIONS_MANAGE)
def organisation_new(user: User, authority: Authority) -> ResponseReturnValue:
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = service.create_organisation(
                user,
                authority,
                name=form.name.data,
                type=OrganisationType(form.type.data),
                sector=SectorGroup(form.sector.data),
                address_hash=address_hash(),
            )
        except service.AdminError as error:
            form.name.errors = [str(error)]
        else:
            flash(f"{organisation.name} has been added. Invite its first administrator.",
                  "success")
            return redirect(url_for("admin.members", organisation_id=organisation.id))
    return render_template("admin/organisation_form.html", form=form, authority=authority,
                           organisation=None)


@bp.route("/authorities/<uuid:authority_id>/organisations/add-existing",
          methods=["GET", "POST"])
@requires(Permission.AUTHORITY_ORGANISATIONS_MANAGE)
def organisation_link(user: User, authority: Authority) -> ResponseReturnValue:
    candidates = list(service.organisations_not_linked(authority))
    form = LinkOrganisationForm(organisations=candidates)
    if form.validate_on_submit():
        chosen = next(o for o in candidates if str(o.id) == form.organisation.data)
        try:
            service.link_organisation(user, authority, chosen, address_hash=address_hash())
        except service.AdminError as error:
            form.organisation.errors = [str(error)]
        else:
            flash(f"{chosen.name} now works with {authority.display_name}.", "success")
            return redirect(url_for("admin.organisations", authority_id=authority.id))
    return render_template("admin/organisation_link.html", form=form, authority=authority,
                           candidates=candidates)


@bp.route("/organisations/<uuid:organisation_id>", methods=["GET", "POST"])
@requires(Permission.ORGANISATION_DETAILS_MANAGE)
def organisation(user: User, organisation: Organisation) -> ResponseReturnValue:
    form = OrganisationForm(
        data={
            "name": organisation.name,
            "type": organisation.type.value,
            "sector": organisation.sector.value,
        }
    )
    if form.validate_on_submit():
        try:
            service.update_organisation(
                user,
                organisation,
                name=form.name.data,
                type=OrganisationType(form.type.data),
                sector=SectorGroup(form.sector.data),
                address_hash=address_hash(),
            )
        except service.AdminError as error:
            form.name.errors = [str(error)]
        else:
            flash("Organisation details saved.", "success")
            return redirect(url_for("admin.organisation", organisation_id=organisation.id))
    return render_template("admin/organisation_form.html", form=form, authority=None,
                           organisation=organisation)
