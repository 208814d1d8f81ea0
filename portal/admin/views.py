"""Administration pages: authority settings, people, partner organisations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from portal import access, audit, tracker
from portal.access import Permission, requires, signed_in
from portal.admin import bp, people, service
from portal.admin.forms import (
    AuthoritySettingsForm,
    LinkOrganisationForm,
    OrganisationForm,
    TrackerForm,
)
from portal.admin.people import MEMBERS, STAFF
from portal.auth.views import address_hash
from portal.extensions import db
from portal.models import AuditKind, Authority, Organisation, User
from portal.vocabulary import MeetingName, OrganisationType, SectorGroup


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
    places = [place for place in (*authorities, *organisations) if place is not None]
    if len(places) == 1:
        return redirect(people.url_for_place(places[0], "people"))
    return render_template("admin/index.html", authorities=authorities, organisations=organisations)


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
            "contact_email": authority.contact_email,
            "contact_phone": authority.contact_phone,
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
            contact_email=form.contact_email.data,
            contact_phone=form.contact_phone.data,
            address_hash=address_hash(),
        )
        flash("Settings saved.", "success")
        return redirect(url_for("admin.authority_settings", authority_id=authority.id))
    return render_template("admin/authority_settings.html", form=form, authority=authority)


# People: an authority's staff and an organisation's members are the same pages over a
# different place. Each section's routes are declared here with the section's permission
# (organisation members are managed by their organisation administrators, and by the
# administrators of authorities the organisation works with).


@dataclass(frozen=True)
class PeopleSection:
    name: str  # endpoint prefix: admin.staff, admin.staff_invite, ...
    place_url: str
    permission: Permission


PEOPLE_SECTIONS = (
    PeopleSection("staff", "/authorities/<uuid:authority_id>", STAFF),
    PeopleSection("members", "/organisations/<uuid:organisation_id>", MEMBERS),
)
PERSON_ACTIONS = '<any("deactivate", "reactivate", "reset-authenticator"):action>'
INVITATION_ACTIONS = '<any("resend", "cancel"):action>'

for section in PEOPLE_SECTIONS:
    guard = requires(section.permission)
    people_url = f"{section.place_url}/{section.name}"
    for url, page, handler, methods in (
        (people_url, "", people.list_people, ["GET"]),
        (f"{people_url}/invite", "_invite", people.invite_person, ["GET", "POST"]),
        (f"{people_url}/<uuid:user_id>", "_person", people.person, ["GET", "POST"]),
        (
            f"{people_url}/<uuid:user_id>/{PERSON_ACTIONS}",
            "_person_action",
            people.person_action,
            ["GET", "POST"],
        ),
        (
            f"{section.place_url}/invitations/<uuid:invitation_id>/{INVITATION_ACTIONS}",
            "_invitation_action",
            people.invitation_action,
            ["POST"],
        ),
    ):
        bp.add_url_rule(url, f"{section.name}{page}", guard(handler), methods=methods)


# Partner organisations of an authority


@bp.route("/authorities/<uuid:authority_id>/organisations")
@requires(Permission.AUTHORITY_ORGANISATIONS_MANAGE)
def organisations(user: User, authority: Authority) -> ResponseReturnValue:
    linked = service.linked_organisations(authority)
    return render_template(
        "admin/organisations.html",
        authority=authority,
        organisations=linked,
        managers=service.account_managers(linked),
        member_counts=service.member_counts(linked),
        can_add_existing=bool(service.organisations_not_linked(authority)),
    )


def _organisation_answers(form: OrganisationForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "type": OrganisationType(form.type.data),
        "sector": SectorGroup(form.sector.data),
    }


@bp.route("/authorities/<uuid:authority_id>/organisations/new", methods=["GET", "POST"])
@requires(Permission.AUTHORITY_ORGANISATIONS_MANAGE)
def organisation_new(user: User, authority: Authority) -> ResponseReturnValue:
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = service.create_organisation(
                user, authority, address_hash=address_hash(), **_organisation_answers(form)
            )
        except service.AdminError as error:
            form.name.errors = [str(error)]
        else:
            flash(f"{organisation.name} has been added. Invite its first administrator.", "success")
            return redirect(url_for("admin.members", organisation_id=organisation.id))
    return render_template(
        "admin/organisation_form.html", form=form, authority=authority, organisation=None
    )


@bp.route("/authorities/<uuid:authority_id>/organisations/add-existing", methods=["GET", "POST"])
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
    return render_template(
        "admin/organisation_link.html", form=form, authority=authority, candidates=candidates
    )


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
                user, organisation, address_hash=address_hash(), **_organisation_answers(form)
            )
        except service.AdminError as error:
            form.name.errors = [str(error)]
        else:
            flash("Organisation details saved.", "success")
            return redirect(url_for("admin.organisation", organisation_id=organisation.id))
    return render_template(
        "admin/organisation_form.html", form=form, authority=None, organisation=organisation
    )


# A historic tracker (portal/tracker.py): checked, then imported all or nothing.

PROBLEMS_SHOWN = 200


@bp.route("/authorities/<uuid:authority_id>/tracker", methods=["GET", "POST"])
@requires(Permission.AUTHORITY_SETTINGS_MANAGE)
def tracker_import(user: User, authority: Authority) -> ResponseReturnValue:
    form = TrackerForm()
    checked: tracker.Checked | None = None
    imported: int | None = None
    if form.validate_on_submit():
        chosen = form.file.data
        if not chosen or not getattr(chosen, "filename", ""):
            form.file.errors = ["Choose the tracker file"]
        else:
            try:
                checked = tracker.check_file(chosen.stream, chosen.filename, authority)
            except tracker.TrackerError as error:
                form.file.errors = [str(error)]
            else:
                if form.import_.data and not checked.problems:
                    imported = tracker.import_rows(authority, user, checked.rows)
                    audit.record(
                        AuditKind.TRACKER_IMPORTED,
                        actor_id=user.id,
                        authority_id=authority.id,
                        address_hash=address_hash(),
                        rows=imported,
                        skipped=checked.already,
                    )
                    db.session.commit()
    return render_template(
        "admin/tracker.html",
        form=form,
        authority=authority,
        checked=checked,
        imported=imported,
        problems=checked.problems[:PROBLEMS_SHOWN] if checked else [],
        columns=tracker.TEMPLATE,
        allowed=tracker.allowed,
    )


@bp.route("/authorities/<uuid:authority_id>/tracker/template.csv")
@requires(Permission.AUTHORITY_SETTINGS_MANAGE)
def tracker_template(user: User, authority: Authority) -> ResponseReturnValue:
    return Response(
        tracker.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="lado-tracker-template.csv"'},
    )
