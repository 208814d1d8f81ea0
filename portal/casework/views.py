"""The LADO's team's pages: the queue, a case, and a move of a case.

Every page is under the authority's AUTHORITY_CASES_WORK permission; cases are found only
through access.case_or_404 (another authority's case answers 404). Moves go through
portal.workflow, which checks the rest (a decision needs AUTHORITY_CASES_DECIDE).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal import access, audit, closure, destruction, outcomes, workflow
from portal.access import Permission, requires
from portal.auth.views import address_hash, stepped_up
from portal.casework import bp, queue, repeats
from portal.casework import service as case_service
from portal.casework.forms import AssignForm, MoveForm, NoteForm
from portal.extensions import db
from portal.meetings import service as meeting_service
from portal.models import (
    AuditEvent,
    AuditKind,
    Authority,
    Case,
    CaseConclusion,
    CaseEvent,
    CaseNote,
    CaseTransfer,
    CaseUpdate,
    Deadline,
    DeadlineKind,
    DelayReason,
    Meeting,
    OnwardReferral,
    User,
    utcnow,
)
from portal.pages import drawn_then_committed
from portal.redaction import Audience
from portal.referrals import service as referral_service
from portal.referrals.sections import CONTACT_SECTIONS, PARTNER_SECTIONS
from portal.referrals.views import attachment_download
from portal.updates import service as update_service
from portal.vocabulary import OUTCOME_DEFINITIONS, ConcludingAction, OnwardBody
from portal.workdays import uk_date

WORK = Permission.AUTHORITY_CASES_WORK
VIEWS_SHOWN = 50  # the latest views of a case, for a LADO manager


@bp.route("/authorities/<uuid:authority_id>/queue")
@requires(WORK)
def queue_page(user: User, authority: Authority) -> ResponseReturnValue:
    filters = queue.Filters.from_args(request.args)
    try:
        number = max(1, int(request.args.get("page", "1")))
    except ValueError:
        number = 1
    now = utcnow()
    rows = queue.page(authority, filters, number, now)
    counts = queue.counts(authority, now)
    total = queue.matching(authority, filters, now) if filters.narrowing else counts.open
    audit.record(
        AuditKind.CASES_LISTED,
        actor_id=user.id,
        authority_id=authority.id,
        address_hash=address_hash(),
        shown=len(rows),
        page=number,
    )
    names, workers = access.staff_names(authority, WORK)
    pages = max(1, -(-total // queue.PAGE_SIZE))
    choices = queue.filter_choices(filters, workers, names, counts.officers)
    chosen = [(choice.name, choice.label, choice.text) for choice in choices if choice.text]
    if filters.overdue:
        chosen.append(("overdue", "Overdue", "only overdue cases"))
    return drawn_then_committed(
        "casework/queue.html",
        authority=authority,
        rows=rows,
        total=total,
        number=number,
        pages=pages,
        filters=filters,
        counts=counts,
        officers=names,
        choices=choices,
        chosen=chosen,
        sort_words=queue.SORT_WORDS[filters.sort],
        today=uk_date(now),
        now=now,
        rules=workflow.DEADLINE_RULES,
        without=lambda name: url_for(
            "casework.queue_page",
            authority_id=authority.id,
            **cast(dict[str, Any], {k: v for k, v in filters.as_args().items() if k != name}),
        ),
        sort_url=lambda key: url_for(
            "casework.queue_page",
            authority_id=authority.id,
            **{**filters.as_args(), "sort": key},
        ),
        page_url=lambda page_number: url_for(
            "casework.queue_page",
            authority_id=authority.id,
            **{"page": page_number, **filters.as_args()},
        ),
    )


@bp.route("/authorities/<uuid:authority_id>/cases/<uuid:case_id>")
@requires(WORK)
def case_page(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id, destroyed=True)
    referral_service.note_view(user, case, "case", address_hash())
    if case.destroyed_at is not None:
        return drawn_then_committed("casework/destroyed.html", case=case, authority=authority)
    return _case(user, authority, case)


def _case(
    user: User,
    authority: Authority,
    case: Case,
    *,
    note_form: NoteForm | None = None,
) -> ResponseReturnValue:
    sections = CONTACT_SECTIONS if case.logged else PARTNER_SECTIONS
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.occurred_at)
    ).all()
    deadlines = db.session.scalars(
        select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.due_at)
    ).all()
    notes = db.session.scalars(
        select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.created_at.desc())
    ).all()
    # Names in the timeline: this authority's staff, and those of any authority that
    # transferred the case here.
    senders = db.session.scalars(
        select(Authority).where(
            Authority.id.in_(
                select(CaseTransfer.from_authority_id).where(CaseTransfer.case_id == case.id)
            )
        )
    ).all()
    people, workers = access.staff_names(authority, WORK)
    for sender in senders:
        people |= access.staff_names(sender, WORK)[0]
    authority_names = {str(a.id): a.display_name for a in db.session.scalars(select(Authority))}
    earlier = repeats.earlier_contacts(case)
    repeats.record_look_up(user, case, earlier, address_hash())
    meetings = db.session.scalars(access.meetings_of(case).order_by(Meeting.starts_at)).all()
    updates = db.session.scalars(
        select(CaseUpdate).where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.written_at)
    ).all()
    viewed = (
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_id == case.id, AuditEvent.kind == AuditKind.CASE_VIEWED)
            .order_by(AuditEvent.occurred_at.desc())
            .limit(VIEWS_SHOWN)
        ).all()
        if Permission.AUTHORITY_AUDIT_VIEW in access.permissions_in(user, authority_id=authority.id)
        else None
    )
    return drawn_then_committed(
        "casework/case.html",
        viewed=viewed,
        hold=destruction.active_hold(case),
        manages_records=Permission.AUTHORITY_RECORDS_MANAGE
        in access.permissions_in(user, authority_id=authority.id),
        earlier=earlier,
        meetings=meetings,
        updates=updates,
        conclusions=db.session.scalars(
            select(CaseConclusion).where(CaseConclusion.case_id == case.id)
        ).all(),
        referrals_on=db.session.scalars(
            select(OnwardReferral).where(OnwardReferral.case_id == case.id)
        ).all(),
        embargoes=update_service.standing(case),
        audience_labels={a.value: a.label for a in Audience},
        may_arrange=case.status in meeting_service.MEETING_STATUSES,
        meeting_kind=lambda kind: meeting_service.kind_label(kind, authority),
        viewers=people | _people({e.actor_id for e in viewed or [] if e.actor_id} - people.keys()),
        authority=authority,
        case=case,
        summary=[(s, rows) for s in sections if (rows := s.summary(case))],
        events=list(reversed(events)),
        deadlines=deadlines,
        notes=notes,
        rules=workflow.DEADLINE_RULES,
        moves=workflow.allowed_moves(case, user),
        people=people,
        authority_names=authority_names,
        now=utcnow(),
        note_form=note_form or NoteForm(formdata=None),
        progress_due=any(
            d.kind == DeadlineKind.PROGRESS_SUMMARY and d.met_at is None for d in deadlines
        ),
        form=note_form,  # its errors, if any, in the page's error summary
        assign_form=AssignForm(
            formdata=None,
            data={"officer": str(case.assigned_to_id) if case.assigned_to_id else ""},
            officers=_officer_choices(people, workers),
        ),
        url=lambda page, **values: url_for(
            f"casework.case_{page}", authority_id=authority.id, **values
        ),
    )


def _people(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Viewers who are not among the authority's staff now (someone who has left)."""
    if not ids:
        return {}
    return {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _officer_choices(names: dict[uuid.UUID, str], workers: set[uuid.UUID]) -> list[SelectChoice]:
    """Who a case can be assigned to: the staff who work cases, by name."""
    return sorted(
        (SelectChoice(str(officer_id), names[officer_id]) for officer_id in workers),
        key=lambda choice: choice.label.casefold(),
    )


@bp.route("/authorities/<uuid:authority_id>/cases/<uuid:case_id>/assign", methods=["POST"])
@requires(WORK)
def case_assign(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    form = AssignForm(officers=_officer_choices(*access.staff_names(authority, WORK)))
    if form.validate_on_submit():
        officer = uuid.UUID(form.officer.data) if form.officer.data else None
        case_service.assign(user, case, officer, address_hash())
        flash("The officer has been changed.", "success")
    else:
        flash("Select one of the officers listed.", "error")
    return redirect(url_for("casework.case_page", authority_id=authority.id, case_id=case.id))


@bp.route("/authorities/<uuid:authority_id>/cases/<uuid:case_id>/notes", methods=["POST"])
@requires(WORK)
def case_notes(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    form = NoteForm()
    if form.validate_on_submit():
        case_service.add_note(
            user, case, form.text.data, address_hash(), progress=bool(form.progress.data)
        )
        flash("Your note has been added.", "success")
        return redirect(url_for("casework.case_page", authority_id=authority.id, case_id=case.id))
    return _case(user, authority, case, note_form=form)


@bp.route("/authorities/<uuid:authority_id>/cases/<uuid:case_id>/<name>", methods=["GET", "POST"])
@requires(WORK)
def move_page(
    user: User, authority: Authority, case_id: uuid.UUID, name: str
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    transition = workflow.TRANSITIONS.get(name)
    if transition is None or transition.permission is None:
        abort(404)
    # A form drawn before someone else moved the case is answered with why it cannot go
    # ahead (and the answers), not a bare 404, even if the move is no longer possible.
    stale = request.method == "POST" and request.form.get("version") != str(case.version)
    if transition not in workflow.allowed_moves(case, user) and not stale:
        abort(404)
    now = utcnow()
    late = workflow.overdue_deadlines(case, now)
    others = db.session.scalars(select(Authority).where(Authority.id != authority.id)).all()
    form = MoveForm.for_move(
        transition,
        late=bool(late),
        authorities=[SelectChoice(str(a.id), a.display_name) for a in others],
        data={"version": case.version} if request.method == "GET" else None,
    )
    problem: str | None = None
    if form.validate_on_submit():
        detail: dict[str, Any] = {}
        if "criteria" in form:
            detail = {"criteria": form.criteria.data, "harm_category": form.harm_category.data}
        if "to_authority" in form:
            detail = {"to_authority_id": form.to_authority.data}
        if "outcome" in form:
            detail = {"outcome": form.outcome.data}
        if "actions" in form:
            detail = {"actions": form.actions.data}
        also = (
            [DeadlineKind.STRATEGY_DISCUSSION]
            if "strategy_discussion" in form and form.strategy_discussion.data
            else []
        )
        try:
            workflow.move(
                case,
                name,
                user,
                version=form.version.data if form.version.data is not None else -1,
                rationale=form.rationale.data if "rationale" in form else None,
                delay_reason=DelayReason(form.delay_reason.data) if late else None,
                delay_detail=form.delay_detail.data if late else None,
                also_start=also,
                detail=detail,
                now=now,
                address_hash=address_hash(),
            )
        except workflow.MissingAnswerError as error:
            getattr(form, error.field_name).errors = [str(error)]
        except workflow.WorkflowError as error:
            # Stale or no longer allowed: the answers stay on the page with the reason.
            problem = str(error)
        else:
            if "actions" in form:
                outcomes.conclude(
                    case,
                    [ConcludingAction(value) for value in form.actions.data],
                    form.actions_on.required_date,
                    [
                        (
                            OnwardBody(value),
                            form.referred_on.required_date,
                            form.referred_other.data,
                        )
                        for value in form.referred_to.data or []
                    ],
                )
            if name == "close" and case.outcome is not None:
                closure.publish_to_subject(case, closure.letter(case, authority, user), user)
            db.session.commit()
            if case.authority_id != authority.id:  # transferred: no longer this queue's
                receiver = db.session.get_one(Authority, case.authority_id)
                flash(
                    f"{case.reference} has been transferred to {receiver.display_name}. "
                    "Its LADOs have been told.",
                    "success",
                )
                return redirect(url_for("casework.queue_page", authority_id=authority.id))
            flash(f"{transition.label}: done.", "success")
            return redirect(
                url_for("casework.case_page", authority_id=authority.id, case_id=case.id)
            )
    return render_template(
        "casework/move.html",
        authority=authority,
        case=case,
        transition=transition,
        form=form,
        late=[workflow.DEADLINE_RULES[deadline.kind].label.lower() for deadline in late],
        problem=problem,
        definitions={o.value: text for o, text in OUTCOME_DEFINITIONS.items()},
    )


@bp.route("/authorities/<uuid:authority_id>/cases/<uuid:case_id>/files/<uuid:attachment_id>")
@requires(WORK)
@stepped_up
def case_file(
    user: User, authority: Authority, case_id: uuid.UUID, attachment_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    return attachment_download(user, case, attachment_id)


@bp.route("/authorities/<uuid:authority_id>/cases/<uuid:case_id>/earlier/<uuid:earlier_id>")
@requires(WORK)
def earlier_record(
    user: User, authority: Authority, case_id: uuid.UUID, earlier_id: uuid.UUID
) -> ResponseReturnValue:
    """An earlier contact about the same person, perhaps in another authority: its
    metadata and who to ask there, nothing more."""
    case = access.case_or_404(authority, case_id)
    earlier = repeats.earlier_record_or_404(case, earlier_id)
    repeats.record_opened(user, case, earlier, address_hash())
    return render_template(
        "casework/earlier.html",
        authority=authority,
        case=case,
        earlier=earlier,
        ladoes=access.ladoes_of(earlier.authority),
    )
