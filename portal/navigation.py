"""The header and service navigation, which differ by who is signed in."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import access
from portal.access import Permission
from portal.config import current_settings
from portal.extensions import db
from portal.models import Authority, User


def council_name() -> str:
    """The header names the council whose service this is: the signed-in user's
    authority, the only authority of a single-council deployment, or the deployment."""
    user = current_user if current_user.is_authenticated else None
    if user is not None:
        authority_ids = {m.authority_id for m in user.active_memberships if m.authority_id}
        if len(authority_ids) == 1:
            authority = db.session.get(Authority, authority_ids.pop())
            if authority is not None:
                return authority.display_name
    names = db.session.scalars(select(Authority.display_name).limit(2)).all()
    if len(names) == 1:
        return str(names[0])
    return current_settings().deployment_name


def service_navigation() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    user: User = current_user
    items = [_item("Home", "main.home")]
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
