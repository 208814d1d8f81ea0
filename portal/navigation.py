"""The header and service navigation, which differ by who is signed in."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from portal import access
from portal.access import Permission
from portal.config import current_settings
from portal.extensions import db
from portal.models import Authority, Organisation, OrganisationAuthority, User


def councils() -> list[str]:
    """The councils whose service the page belongs to: for a signed-in user, the
    authorities they work in or with; otherwise every authority of the deployment.
    Worked out once per request (the header and the footer both ask)."""
    if "councils" not in g:
        g.councils = _councils()
    names: list[str] = g.councils
    return names


def _councils() -> list[str]:
    query = select(Authority.display_name).order_by(Authority.display_name)
    if current_user.is_authenticated:
        user: User = current_user
        authority_ids = {m.authority_id for m in user.active_memberships if m.authority_id}
        if user.is_subject:  # the councils of the cases they follow
            authority_ids |= {link.authority_id for link in user.subject_links if link.is_active}
        organisation_ids = [m.organisation_id for m in user.active_memberships if m.organisation_id]
        # A partner's councils are those their organisations work with: in the same query.
        linked = select(OrganisationAuthority.authority_id).where(
            OrganisationAuthority.organisation_id.in_(organisation_ids)
        )
        query = query.where(
            or_(Authority.id.in_(authority_ids), Authority.id.in_(linked))
            if organisation_ids
            else Authority.id.in_(authority_ids)
        )
    return [str(name) for name in db.session.scalars(query)]


def council_name() -> str:
    """The header names the council when there is one; otherwise the deployment."""
    names = councils()
    return names[0] if len(names) == 1 else current_settings().deployment_name


def council_names() -> str:
    """For the footer: "A", "A and B", "A, B and C"."""
    names = councils()
    if len(names) <= 1:
        return names[0] if names else current_settings().deployment_name
    return ", ".join(names[:-1]) + " and " + names[-1]


def service_navigation() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    user: User = current_user
    if user.is_subject:
        return [_item("Your cases", "subjects.your_cases"), _item("Your account", "auth.account")]
    items = [_item("Home", "main.home")]
    referring = access.organisations_where(user, Permission.ORGANISATION_REFERRALS)
    if len(referring) == 1:
        items.append(_item("Referrals", "referrals.referral_list", organisation_id=referring[0]))
    elif referring:
        items.append(_item("Referrals", "referrals.index"))
    answering = access.organisations_where(user, Permission.ORGANISATION_REQUESTS_ANSWER)
    for organisation_id in answering:
        text = "Requests"
        if len(answering) > 1:
            text = f"Requests: {db.session.get_one(Organisation, organisation_id).name}"
        items.append(_item(text, "meetings.request_list", organisation_id=organisation_id))
    for authority_id in access.authorities_where(user, Permission.AUTHORITY_CASES_WORK):
        text = "Queue"
        if len(access.authorities_where(user, Permission.AUTHORITY_CASES_WORK)) > 1:
            text = f"Queue: {db.session.get_one(Authority, authority_id).display_name}"
        items.append(_item(text, "casework.queue_page", authority_id=authority_id))
    reporting = access.authorities_where(user, Permission.AUTHORITY_REPORTS_VIEW)
    if len(reporting) == 1:
        items.append(_item("Reports", "reports.annual", authority_id=reporting[0]))
    auditing = access.authorities_where(user, Permission.AUTHORITY_AUDIT_VIEW)
    if len(auditing) == 1:
        items.append(_item("Audit", "admin.audit_trail", authority_id=auditing[0]))
    keeping = access.authorities_where(user, Permission.AUTHORITY_RECORDS_MANAGE)
    if len(keeping) == 1:
        items.append(_item("Retention", "casework.retention", authority_id=keeping[0]))
        items.append(_item("Subject access", "casework.subject_access", authority_id=keeping[0]))
    logging_in = access.authorities_where(user, Permission.AUTHORITY_CONTACTS_LOG)
    for authority_id in logging_in:
        text = "Log a contact"
        if len(logging_in) > 1:
            authority = db.session.get_one(Authority, authority_id)
            text = f"Log a contact: {authority.display_name}"
        items.append(_item(text, "referrals.contact_start", authority_id=authority_id))
    staff_places = access.authorities_where(user, Permission.AUTHORITY_STAFF_MANAGE)
    member_places = access.organisations_where(user, Permission.ORGANISATION_MEMBERS_MANAGE)
    if len(staff_places) + len(member_places) > 1:
        items.append(_item("Administration", "admin.index"))
    elif len(staff_places) == 1:
        authority_id = staff_places[0]
        items.append(_item("Staff", "admin.staff", authority_id=authority_id))
        if Permission.AUTHORITY_ORGANISATIONS_MANAGE in access.permissions_in(
            user, authority_id=authority_id
        ):
            items.append(_item("Organisations", "admin.organisations", authority_id=authority_id))
        if Permission.AUTHORITY_SETTINGS_MANAGE in access.permissions_in(
            user, authority_id=authority_id
        ):
            items.append(_item("Settings", "admin.authority_settings", authority_id=authority_id))
    elif len(member_places) == 1:
        items.append(_item("Users", "admin.members", organisation_id=member_places[0]))
    items.append(_item("Your account", "auth.account"))
    return items


def _item(text: str, endpoint: str, **values: Any) -> dict[str, Any]:
    href = url_for(endpoint, **values)
    # A section stays highlighted on its sub-pages (e.g. a person within Staff).
    active = request.path == href or (
        endpoint != "main.home" and request.path.startswith(href.rstrip("/") + "/")
    )
    return {"text": text, "href": href, "active": active}
