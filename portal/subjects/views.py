"""The subject's own pages (access.subject_page: their linked cases only, through
access.subject_case_or_404) and the LADO's page that invites them (AUTHORITY_CASES_WORK,
access.case_or_404)."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from portal import access, audit
from portal.access import Permission, requires, subject_page
from portal.auth.views import address_hash
from portal.extensions import db
from portal.models import AuditKind, Authority, SubjectLink, User
from portal.pages import drawn_then_committed
from portal.subjects import bp, service
from portal.subjects.forms import SubjectInviteForm

WORK = Permission.AUTHORITY_CASES_WORK
CASE_URL = "/authorities/<uuid:authority_id>/cases/<uuid:case_id>"


@bp.route(f"{CASE_URL}/subject-account", methods=["GET", "POST"])
@requires(WORK)
def invite(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    subject = case.subject
    form = SubjectInviteForm(
        data={"full_name": subject.full_name if subject else ""}, meta={"csrf": True}
    )
    if form.validate_on_submit():
        try:
            service.invite(
                case,
                user,
                email=form.email.data or "",
                full_name=form.full_name.data or "",
                address_hash=address_hash(),
            )
        except service.SubjectInvitationError as problem:
            getattr(form, problem.field_name).errors = [str(problem)]
        else:
            db.session.commit()
            flash("The invitation has been sent.", "success")
            return redirect(url_for("subjects.invite", authority_id=authority.id, case_id=case.id))
    links = service.links_of(case)
    accounts = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({link.user_id for link in links}))
        )
    }
    return render_template(
        "subjects/invite.html",
        form=form,
        case=case,
        authority=authority,
        links=links,
        accounts=accounts,
        pending=service.pending_of(case),
        no_employer=subject is not None and subject.has_employer is False,
    )


@bp.route(f"{CASE_URL}/subject-account/<uuid:link_id>/end", methods=["POST"])
@requires(WORK)
def end(
    user: User, authority: Authority, case_id: uuid.UUID, link_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    link = db.session.get(SubjectLink, link_id)
    if link is None or link.case_id != case.id or link.ended_at is not None:
        abort(404)
    service.end_access(case, link, user, address_hash())
    db.session.commit()
    flash("They can no longer read this case's updates.", "success")
    return redirect(url_for("subjects.invite", authority_id=authority.id, case_id=case.id))


# The subject's own pages


@bp.route("/your-cases")
@subject_page
def your_cases(user: User) -> ResponseReturnValue:
    cases = db.session.scalars(access.subject_cases_of(user)).all()
    authorities = {
        a.id: a
        for a in db.session.scalars(
            select(Authority).where(Authority.id.in_({c.authority_id for c in cases}))
        )
    }
    return render_template("subjects/cases.html", cases=cases, authorities=authorities)


@bp.route("/your-cases/<uuid:case_id>")
@subject_page
def your_case(user: User, case_id: uuid.UUID) -> ResponseReturnValue:
    """The updates published to the subject on one of their cases, and who to contact:
    nothing else of the case."""
    case = access.subject_case_or_404(user, case_id)
    audit.record(
        AuditKind.SUBJECT_CASE_VIEWED,
        actor_id=user.id,
        authority_id=case.authority_id,
        case_id=case.id,
        address_hash=address_hash(),
    )
    return drawn_then_committed(
        "subjects/case.html",
        case=case,
        authority=db.session.get_one(Authority, case.authority_id),
        updates=db.session.scalars(access.updates_for_subject(case)).all(),
    )
