"""Updates and embargoes: the LADO's team (AUTHORITY_CASES_WORK, cases through
access.case_or_404) writes, redacts and publishes; the police set an embargo from a
request made of them (ORGANISATION_REQUESTS_ANSWER, access.request_or_404)."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal import access, audit, redaction
from portal.access import Permission, requires
from portal.auth.views import address_hash
from portal.extensions import db
from portal.models import (
    AuditKind,
    Authority,
    Case,
    CaseStatus,
    CaseUpdate,
    Embargo,
    Organisation,
    User,
    utcnow,
)
from portal.pages import drawn_then_committed
from portal.redaction import Audience
from portal.updates import bp, service
from portal.updates.forms import EmbargoForm, WriteForm, review_form
from portal.vocabulary import OrganisationType

WORK = Permission.AUTHORITY_CASES_WORK
ANSWER = Permission.ORGANISATION_REQUESTS_ANSWER
CASE_URL = "/authorities/<uuid:authority_id>/cases/<uuid:case_id>"


def _case_or_404(authority: Authority, case_id: uuid.UUID) -> Case:
    case = access.case_or_404(authority, case_id)
    if case.status == CaseStatus.DRAFT:
        abort(404)
    return case


def _update_or_404(case: Case, update_id: uuid.UUID) -> CaseUpdate:
    found = db.session.get(CaseUpdate, update_id)
    if found is None or found.case_id != case.id:
        abort(404)
    return found


def _update_url(authority: Authority, update: CaseUpdate) -> str:
    return url_for(
        "updates.review", authority_id=authority.id, case_id=update.case_id, update_id=update.id
    )


def _who(case: Case) -> dict[Audience, str]:
    """Each audience as the LADO chooses it: who is in it on this case."""
    every = service.audience_organisations(case)
    return {
        audience: audience.label
        + (f": {', '.join(o.name for o in every[audience])}" if every.get(audience) else "")
        for audience in service.offered(every)
    }


@bp.route(f"{CASE_URL}/updates/new", methods=["GET", "POST"])
@requires(WORK)
def write(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = _case_or_404(authority, case_id)
    who = _who(case)
    form = WriteForm(audiences=[SelectChoice(a.value, label) for a, label in who.items()])
    if form.validate_on_submit():
        try:
            update = service.write(
                case,
                user,
                text=form.text.data or "",
                audiences=[Audience(value) for value in form.audiences.data or []],
                other_names=(form.other_names.data or "").splitlines(),
                address_hash=address_hash(),
            )
        except service.UpdateProblemError as problem:
            getattr(form, problem.field_name).errors = [str(problem)]
        else:
            db.session.commit()
            return redirect(_update_url(authority, update))
    return render_template(
        "updates/write.html",
        form=form,
        case=case,
        authority=authority,
        embargoes=service.standing(case),
    )


@bp.route(f"{CASE_URL}/updates/<uuid:update_id>", methods=["GET", "POST"])
@requires(WORK)
def review(
    user: User, authority: Authority, case_id: uuid.UUID, update_id: uuid.UUID
) -> ResponseReturnValue:
    """Each audience's text as it will be published, side by side: the suggested
    redactions ticked, those its rule always takes out listed, more can be added."""
    case = _case_or_404(authority, case_id)
    update = _update_or_404(case, update_id)
    audit.about_case(
        AuditKind.UPDATE_VIEWED, case, user.id, address_hash(), update_id=str(update.id)
    )
    if update.published_at is not None:
        return _published(authority, case, update)
    audiences = service.audiences_of(update)
    terms = redaction.suggestions(update.text or "", service.known(case, update))
    removable = {a: [t for t in terms if redaction.removable(a, t)] for a in audiences}
    always = {a: [t for t in terms if not redaction.removable(a, t)] for a in audiences}
    defaults = {f"redact_{a.value}": kept for a, kept in service.suggested(update, terms).items()}
    form = review_form(audiences, removable, data=defaults if request.method == "GET" else None)
    chosen = service.chosen_texts(
        update,
        terms,
        kept={a: getattr(form, f"redact_{a.value}").data or [] for a in audiences},
        added={a: (getattr(form, f"added_{a.value}").data or "").splitlines() for a in audiences},
    )
    texts = service.previews(update, chosen)
    if request.method == "POST" and form.validate_on_submit() and form.publish.data:
        try:
            service.publish(case, update, user, chosen, form.shown.data, address_hash())
        except service.UpdateProblemError as problem:
            field = getattr(form, problem.field_name, None) or form.publish
            field.errors = [str(problem)]
        else:
            db.session.commit()
            flash("The update has been published and its readers told.", "success")
            return redirect(_update_url(authority, update))
    form.shown.data = service.digest(texts)
    return drawn_then_committed(
        "updates/review.html",
        form=form,
        case=case,
        authority=authority,
        update=update,
        audiences=audiences,
        texts=texts,
        always=always,
        readers=service.recipients(case, audiences),
        embargoes=service.standing(case),
    )


def _published(authority: Authority, case: Case, update: CaseUpdate) -> ResponseReturnValue:
    people = access.staff_by_id(authority)
    organisations = {
        o.id: o
        for o in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_(
                    {r.organisation_id for text in update.published for r in text.recipients}
                )
            )
        )
    }
    return drawn_then_committed(
        "updates/published.html",
        case=case,
        authority=authority,
        update=update,
        texts=sorted(update.published, key=lambda t: service.AUDIENCE_ORDER.index(t.audience)),
        people=people,
        organisations=organisations,
    )


# Embargoes


@bp.route(f"{CASE_URL}/embargoes", methods=["GET", "POST"])
@requires(WORK)
def embargoes(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = _case_or_404(authority, case_id)
    form = EmbargoForm()
    if form.validate_on_submit() and _set_embargo(case, user, form):
        flash("The embargo has been set.", "success")
        return redirect(url_for("updates.embargoes", authority_id=authority.id, case_id=case.id))
    found = db.session.scalars(
        select(Embargo).where(Embargo.case_id == case.id).order_by(Embargo.set_at.desc())
    ).all()
    organisations = {
        o.id: o.name
        for o in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_({e.set_by_organisation_id for e in found})
            )
        )
    }
    return render_template(
        "updates/embargoes.html",
        form=form,
        case=case,
        authority=authority,
        embargoes=found,
        standing=service.standing(case),
        people=access.staff_by_id(authority),
        organisations=organisations,
        today=utcnow(),
    )


def _set_embargo(
    case: Case, user: User, form: EmbargoForm, organisation: Organisation | None = None
) -> bool:
    try:
        service.embargo(
            case,
            user,
            Audience(form.audience.data),
            form.until.required_date,
            form.reason.data or "",
            address_hash(),
            organisation,
        )
    except service.UpdateProblemError as problem:
        getattr(form, problem.field_name).errors = [str(problem)]
        return False
    db.session.commit()
    return True


@bp.route(f"{CASE_URL}/embargoes/<uuid:embargo_id>/lift", methods=["POST"])
@requires(WORK)
def lift(
    user: User, authority: Authority, case_id: uuid.UUID, embargo_id: uuid.UUID
) -> ResponseReturnValue:
    case = _case_or_404(authority, case_id)
    found = db.session.get(Embargo, embargo_id)
    if found is None or found.case_id != case.id or found.lifted_at is not None:
        abort(404)
    service.lift(case, found, user, address_hash())
    db.session.commit()
    flash("The embargo has been lifted.", "success")
    return redirect(url_for("updates.embargoes", authority_id=authority.id, case_id=case.id))


@bp.route(
    "/organisations/<uuid:organisation_id>/requests/<uuid:request_id>/embargo",
    methods=["GET", "POST"],
)
@requires(ANSWER)
def police_embargo(
    user: User, organisation: Organisation, request_id: uuid.UUID
) -> ResponseReturnValue:
    """The police ask that the subject or the employer is not told yet: from a request
    made of them, as that is where they meet the case."""
    if organisation.type != OrganisationType.POLICE:
        abort(404)
    asked = access.request_or_404(organisation, request_id)
    case = db.session.get_one(Case, asked.case_id)
    form = EmbargoForm()
    if form.validate_on_submit() and _set_embargo(case, user, form, organisation):
        flash("The LADO will not tell them until the date you gave.", "success")
        return redirect(
            url_for("meetings.answer", organisation_id=organisation.id, request_id=asked.id)
        )
    return render_template(
        "updates/police_embargo.html",
        form=form,
        organisation=organisation,
        request=asked,
        reference=case.reference,
    )
