"""Subject access requests, for LADO managers (AUTHORITY_RECORDS_MANAGE): find a
person's records by name and date of birth, then export them (portal/subject_access.py)
with a fresh authenticator code. The name searched for is kept in the server-side
session between the two steps, never in a URL or a hidden field."""

from __future__ import annotations

from datetime import date

from flask import Response, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue

from portal import subject_access as records
from portal.access import Permission, requires
from portal.auth.views import address_hash, fresh_code_accepted
from portal.casework import bp
from portal.casework.forms import ExportForm, SubjectAccessForm
from portal.extensions import db
from portal.models import Authority, User, utcnow

SAR_URL = "/authorities/<uuid:authority_id>/subject-access"
SEARCHED = "portal.subject_access_search"


@bp.route(SAR_URL, methods=["GET", "POST"])
@requires(Permission.AUTHORITY_RECORDS_MANAGE)
def subject_access(user: User, authority: Authority) -> ResponseReturnValue:
    form = SubjectAccessForm()
    if form.validate_on_submit():
        session[SEARCHED] = {
            "authority": str(authority.id),
            "full_name": form.full_name.data,
            "born": form.date_of_birth.required_date.isoformat(),
        }
        found = records.find(authority, form.full_name.data or "", form.date_of_birth.required_date)
        records.record_search(authority, user, found, address_hash())
        db.session.commit()
        return redirect(url_for("casework.subject_access_found", authority_id=authority.id))
    return render_template("casework/subject_access.html", authority=authority, form=form)


@bp.route(f"{SAR_URL}/found", methods=["GET", "POST"])
@requires(Permission.AUTHORITY_RECORDS_MANAGE)
def subject_access_found(user: User, authority: Authority) -> ResponseReturnValue:
    searched = session.get(SEARCHED)
    if not searched or searched.get("authority") != str(authority.id):
        return redirect(url_for("casework.subject_access", authority_id=authority.id))
    full_name, born = searched["full_name"], date.fromisoformat(searched["born"])
    found = records.find(authority, full_name, born)
    form = ExportForm()
    if form.validate_on_submit() and fresh_code_accepted(user, form.code):
        made = records.export(authority, user, found, address_hash())
        db.session.commit()
        session.pop(SEARCHED, None)
        response = Response(made.content, mimetype="application/zip")
        # No name in the file's name: it shows in download lists and logs.
        response.headers["Content-Disposition"] = (
            f'attachment; filename="subject-access-{utcnow():%Y%m%d-%H%M}.zip"'
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return render_template(
        "casework/subject_access_found.html",
        authority=authority,
        form=form,
        found=found,
        full_name=full_name,
        born=born,
    )
