"""An authority's own pre-meeting checklist questions, for its administrators
(AUTHORITY_SETTINGS_MANAGE): asked after the national ones, before "anything else"."""

from __future__ import annotations

import uuid

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from portal.access import Permission, requires
from portal.auth.views import address_hash
from portal.checklists import ANYTHING_ELSE, CHECKLISTS, Agency
from portal.extensions import db
from portal.meetings import bp, service
from portal.meetings.forms import (
    QuestionForm,
)
from portal.models import (
    Authority,
    ChecklistQuestion,
    User,
)

SETTINGS = Permission.AUTHORITY_SETTINGS_MANAGE


@bp.route("/authorities/<uuid:authority_id>/checklists", methods=["GET", "POST"])
@requires(SETTINGS)
def checklists(user: User, authority: Authority) -> ResponseReturnValue:
    form = QuestionForm()
    if form.validate_on_submit():
        service.add_question(
            authority,
            user,
            Agency(form.agency.data),
            form.text.data or "",
            form.hint.data or "",
            address_hash(),
        )
        db.session.commit()
        flash("The question has been added. Requests from now on ask it.", "success")
        return redirect(url_for("meetings.checklists", authority_id=authority.id))
    added = {
        agency: db.session.scalars(
            select(ChecklistQuestion)
            .where(
                ChecklistQuestion.authority_id == authority.id,
                ChecklistQuestion.agency == agency,
                ChecklistQuestion.retired_at.is_(None),
            )
            .order_by(ChecklistQuestion.created_at)
        ).all()
        for agency in Agency
    }
    return render_template(
        "meetings/checklists.html",
        form=form,
        authority=authority,
        checklists=CHECKLISTS,
        added=added,
        anything_else=ANYTHING_ELSE,
    )


@bp.route("/authorities/<uuid:authority_id>/checklists/<uuid:question_id>/remove", methods=["POST"])
@requires(SETTINGS)
def remove_question(
    user: User, authority: Authority, question_id: uuid.UUID
) -> ResponseReturnValue:
    question = db.session.scalars(
        select(ChecklistQuestion).where(
            ChecklistQuestion.id == question_id,
            ChecklistQuestion.authority_id == authority.id,
            ChecklistQuestion.retired_at.is_(None),
        )
    ).first()
    if question is None:
        abort(404)
    service.retire_question(authority, user, question, address_hash())
    db.session.commit()
    flash("The question has been removed. Answers already given to it are kept.", "success")
    return redirect(url_for("meetings.checklists", authority_id=authority.id))
