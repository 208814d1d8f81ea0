"""Retention for LADO managers (AUTHORITY_RECORDS_MANAGE): the cases past their
retention date, destruction batches (one manager proposes, another approves with a fresh
authenticator code), and legal holds on a case. The destroying itself is done by
``flask retention run`` (portal/destruction.py)."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from portal import access, destruction
from portal.access import Permission, requires
from portal.auth.views import address_hash, fresh_code_accepted
from portal.casework import bp
from portal.casework.forms import ApproveDestructionForm, LegalHoldForm
from portal.extensions import db
from portal.models import Authority, Case, DestructionBatch, User, utcnow
from portal.workdays import uk_date

RECORDS = Permission.AUTHORITY_RECORDS_MANAGE
RETENTION_URL = "/authorities/<uuid:authority_id>/retention"
HOLD_URL = "/authorities/<uuid:authority_id>/cases/<uuid:case_id>/legal-hold"
BATCHES_SHOWN = 20


@bp.route(RETENTION_URL)
@requires(RECORDS)
def retention(user: User, authority: Authority) -> ResponseReturnValue:
    due = db.session.scalars(destruction.due(authority, uk_date(utcnow()))).all()
    batches = db.session.scalars(
        select(DestructionBatch)
        .where(DestructionBatch.authority_id == authority.id)
        .order_by(DestructionBatch.proposed_at.desc())
        .limit(BATCHES_SHOWN)
    ).all()
    proposed = {
        item.case_id
        for batch in batches
        if batch.state in ("proposed", "approved")
        for item in batch.items
    }
    return render_template(
        "casework/retention.html",
        authority=authority,
        due=due,
        held=destruction.held_ids([case.id for case in due]),
        proposed=proposed,
        batches=batches,
        people=access.staff_by_id(authority),
    )


@bp.route(f"{RETENTION_URL}/propose", methods=["POST"])
@requires(RECORDS)
def propose_destruction(user: User, authority: Authority) -> ResponseReturnValue:
    try:
        batch = destruction.propose(authority, user, uk_date(utcnow()), address_hash())
    except destruction.RetentionError as error:
        flash(str(error), "error")
        return redirect(url_for("casework.retention", authority_id=authority.id))
    db.session.commit()
    flash("Proposed. Another LADO manager must approve the batch.", "success")
    return redirect(_batch_url(batch))


@bp.route(f"{RETENTION_URL}/batches/<uuid:batch_id>", methods=["GET", "POST"])
@requires(RECORDS)
def destruction_batch(user: User, authority: Authority, batch_id: uuid.UUID) -> ResponseReturnValue:
    batch = access.destruction_batch_or_404(authority, batch_id)
    form = ApproveDestructionForm()
    may_approve = batch.state == "proposed" and batch.proposed_by_id != user.id
    if may_approve and form.validate_on_submit() and fresh_code_accepted(user, form.code):
        destruction.approve(batch, user, address_hash())
        db.session.commit()
        flash("Approved. The cases will be destroyed at the next retention run.", "success")
        return redirect(_batch_url(batch))
    cases = {
        case.id: case
        for case in db.session.scalars(
            access.cases_of(authority, destroyed=True).where(
                Case.id.in_([item.case_id for item in batch.items])
            )
        )
    }
    return render_template(
        "casework/destruction_batch.html",
        authority=authority,
        batch=batch,
        cases=cases,
        form=form,
        may_approve=may_approve,
        held=destruction.held_ids(list(cases)),
        people=access.staff_by_id(authority),
        skipped_because=destruction.SKIPPED_BECAUSE,
    )


@bp.route(f"{RETENTION_URL}/batches/<uuid:batch_id>/withdraw", methods=["POST"])
@requires(RECORDS)
def withdraw_destruction(
    user: User, authority: Authority, batch_id: uuid.UUID
) -> ResponseReturnValue:
    batch = access.destruction_batch_or_404(authority, batch_id)
    try:
        destruction.withdraw(batch, user, address_hash())
    except destruction.RetentionError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("The batch has been withdrawn: nothing in it will be destroyed.", "success")
    return redirect(_batch_url(batch))


@bp.route(HOLD_URL, methods=["GET", "POST"])
@requires(RECORDS)
def legal_hold(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    form = LegalHoldForm()
    hold = destruction.active_hold(case)
    if hold is None and form.validate_on_submit():
        destruction.place_hold(case, user, form.reason.data or "", address_hash())
        db.session.commit()
        flash("The legal hold has been placed: the case will not be destroyed.", "success")
        return redirect(url_for("casework.legal_hold", authority_id=authority.id, case_id=case.id))
    return render_template(
        "casework/legal_hold.html",
        authority=authority,
        case=case,
        hold=hold,
        form=form,
        people=access.staff_by_id(authority),
    )


@bp.route(f"{HOLD_URL}/lift", methods=["POST"])
@requires(RECORDS)
def lift_legal_hold(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    try:
        destruction.lift_hold(case, user, address_hash())
    except destruction.RetentionError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("The legal hold has been lifted.", "success")
    return redirect(url_for("casework.legal_hold", authority_id=authority.id, case_id=case.id))


def _batch_url(batch: DestructionBatch) -> str:
    return url_for("casework.destruction_batch", authority_id=batch.authority_id, batch_id=batch.id)
