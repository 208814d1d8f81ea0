"""The signed-in home page, the public pages every service needs, and /healthz."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from portal import access, keystore
from portal.access import Permission, public, signed_in
from portal.extensions import db
from portal.main import bp
from portal.models import Authority, Organisation, User
from portal.places import place_at


@bp.route("/")
@signed_in
def home(user: User) -> ResponseReturnValue:
    if user.is_subject:
        return redirect(url_for("subjects.your_cases"))
    places = [
        {
            "place": place_at(membership.authority_id, membership.organisation_id),
            "role": membership.role,
        }
        for membership in user.active_memberships
    ]
    # The main things each place lets them do, as the page's first actions.
    referring = [
        db.session.get_one(Organisation, organisation_id)
        for organisation_id in access.organisations_where(user, Permission.ORGANISATION_REFERRALS)
    ]
    logging_contacts = [
        db.session.get_one(Authority, authority_id)
        for authority_id in access.authorities_where(user, Permission.AUTHORITY_CONTACTS_LOG)
    ]
    return render_template(
        "main/home.html",
        places=places,
        referring=referring,
        logging_contacts=logging_contacts,
    )


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """For the load balancer: 200 when the database answers and the keyring opens its
    data keys; 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable", "keys": "unknown"}, 503
    if not keystore.keys_verified():
        return {"status": "unavailable", "database": "ok", "keys": "failed"}, 503
    return {"status": "ok", "database": "ok", "keys": "ok"}, 200


@bp.route("/accessibility-statement")
@public
def accessibility_statement() -> ResponseReturnValue:
    return render_template("main/accessibility_statement.html")


@bp.route("/cookies")
@public
def cookies() -> ResponseReturnValue:
    return render_template("main/cookies.html")


@bp.route("/privacy")
@public
def privacy() -> ResponseReturnValue:
    authorities = db.session.scalars(select(Authority).order_by(Authority.display_name)).all()
    return render_template("main/privacy.html", authorities=authorities)
