"""Meetings, for the LADO's team (AUTHORITY_CASES_WORK: cases found through
access.case_or_404), and information requests, for the partner organisations asked
(ORGANISATION_REQUESTS_ANSWER: requests found through access.request_or_404). A partner
sees of the case only its reference and the meeting's date and time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal import access, audit, workflow
from portal.access import Permission, requires
from portal.auth.views import address_hash
from portal.casework import service as case_service
from portal.checklists import CHECKLISTS, Agency, agency_for
from portal.extensions import db
from portal.meetings import bp, service
from portal.meetings.forms import ArrangeForm, RequestForm, answer_form
from portal.models import (
    AuditKind,
    Authority,
    Case,
    Deadline,
    DelayReason,
    InformationRequest,
    Meeting,
    MeetingKind,
    Organisation,
    User,
    utcnow,
)
from portal.workdays import end_of_uk_day

WORK = Permission.AUTHORITY_CASES_WORK
ANSWER = Permission.ORGANISATION_REQUESTS_ANSWER


def _case_url(authority: Authority, case: Case) -> str:
    return url_for("casework.case_page", authority_id=authority.id, case_id=case.id)


def _meeting_url(authority: Authority, meeting: Meeting, page: str = "meeting_page") -> str:
    return url_for(
        f"meetings.{page}",
        authority_id=authority.id,
        case_id=meeting.case_id,
        meeting_id=meeting.id,
    )


# The LADO's team


@bp.route(
    "/authorities/<uuid:authority_id>/cases/<uuid:case_id>/meetings/new",
    methods=["GET", "POST"],
)
@requires(WORK)
def arrange(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    if case.status not in service.MEETING_STATUSES:
        abort(404)
    staff = db.session.scalars(access.staff_of(authority)).all()
    officers = case_service.officers(authority, staff)
    organisations = db.session.scalars(access.organisations_of(authority)).all()
    form = ArrangeForm(
        kinds=[SelectChoice(k.value, service.kind_label(k, authority)) for k in MeetingKind],
        officers=[SelectChoice(str(u.id), u.full_name) for u in officers],
        organisations=[SelectChoice(str(o.id), o.name) for o in organisations],
        staff=[SelectChoice(str(u.id), u.full_name) for u in officers],
        data={"organisations": [str(case.organisation_id)] if case.organisation_id else []}
        if request.method == "GET"
        else None,
    )
    warnings: list[str] = []
    late: Deadline | None = None
    if form.validate_on_submit():
        starts_at = form.starts_at()
        warnings = service.date_warnings(starts_at, utcnow())
        late = service.missed_by(case, MeetingKind(form.kind.data), starts_at)
        people = {str(u.id): u for u in staff}
        chosen = set(form.organisations.data or [])
        try:
            meeting = service.arrange(
                case,
                user,
                kind=MeetingKind(form.kind.data),
                starts_at=starts_at,
                minutes_long=int(form.minutes_long.data or 60),
                place=form.place.data or "",
                chair=people[form.chair.data],
                organisations=[o for o in organisations if str(o.id) in chosen],
                staff=[people[i] for i in form.staff.data or []],
                date_reason=form.date_reason.data,
                delay_reason=DelayReason(form.delay_reason.data)
                if form.delay_reason.data
                else None,
                delay_detail=form.delay_detail.data,
                address_hash=address_hash(),
            )
        except service.MeetingProblemError as problem:
            getattr(form, problem.field_name).errors = [str(problem)]
        else:
            db.session.commit()
            flash("The meeting has been arranged and the invitees told.", "success")
            return redirect(_meeting_url(authority, meeting))
    return render_template(
        "meetings/arrange.html",
        form=form,
        case=case,
        authority=authority,
        warnings=warnings,
        late=late,
        rules=workflow.DEADLINE_RULES,
    )


@bp.route("/authorities/<uuid:authority_id>/cases/<uuid:case_id>/meetings/<uuid:meeting_id>")
@requires(WORK)
def meeting_page(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    return _meeting(user, authority, case_id, meeting_id, "meetings/meeting.html")


@bp.route("/authorities/<uuid:authority_id>/cases/<uuid:case_id>/meetings/<uuid:meeting_id>/pack")
@requires(WORK)
def pack(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    """The pre-meeting pack: the same answers, laid out to print."""
    return _meeting(user, authority, case_id, meeting_id, "meetings/pack.html")


def _meeting(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID, template: str
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    requests = db.session.scalars(
        select(InformationRequest)
        .where(InformationRequest.meeting_id == meeting.id)
        .order_by(InformationRequest.requested_at)
    ).all()
    organisations = {
        o.id: o
        for o in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_(
                    {r.organisation_id for r in requests}
                    | {i.organisation_id for i in meeting.invitees if i.organisation_id}
                )
            )
        )
    }
    people = {u.id: u for u in db.session.scalars(access.staff_of(authority))}
    audit.about_case(
        AuditKind.MEETING_VIEWED,
        case,
        user.id,
        address_hash(),
        meeting_id=str(meeting.id),
        page=template.rsplit("/", 1)[-1].removesuffix(".html"),
    )
    page = render_template(
        template,
        case=case,
        authority=authority,
        meeting=meeting,
        kind=service.kind_label(meeting.kind, authority),
        requests=requests,
        columns=_side_by_side(requests),
        organisations=organisations,
        people=people,
        now=utcnow(),
    )
    db.session.commit()
    return page


def _side_by_side(requests: Sequence[InformationRequest]) -> list[tuple[str, list[str | None]]]:
    """Each agency's answers in a column: one row per question any of them was asked,
    None where a request is still outstanding or did not ask it."""
    rows: dict[str, tuple[str, list[str | None]]] = {}
    for column, found in enumerate(requests):
        sent = found.answers if found.submitted_at else None
        for question in service.checklist(found):
            _, cells = rows.setdefault(question.key, (question.text, [None] * len(requests)))
            cells[column] = (sent or {}).get(question.key, "" if sent is not None else None)
    return list(rows.values())


@bp.route(
    "/authorities/<uuid:authority_id>/cases/<uuid:case_id>/meetings/<uuid:meeting_id>/requests/new",
    methods=["GET", "POST"],
)
@requires(WORK)
def ask(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    organisations = {str(o.id): o for o in db.session.scalars(access.organisations_of(authority))}
    form = RequestForm(
        organisations=[SelectChoice(key, o.name) for key, o in organisations.items()]
    )
    if form.validate_on_submit():
        organisation = organisations[form.organisation.data]
        due = form.due.data
        try:
            service.request_information(
                case,
                meeting,
                organisation,
                Agency(form.agency.data),
                end_of_uk_day(due) if due else service.default_due(meeting),
                user,
                address_hash(),
            )
        except service.MeetingProblemError as problem:
            getattr(form, problem.field_name).errors = [str(problem)]
        else:
            db.session.commit()
            flash(f"{organisation.name} has been asked, and its users told.", "success")
            return redirect(_meeting_url(authority, meeting))
    return render_template(
        "meetings/ask.html",
        form=form,
        case=case,
        authority=authority,
        meeting=meeting,
        default_due=service.default_due(meeting),
        usual={key: agency_for(o.type).label for key, o in organisations.items()},
    )


@bp.route(
    "/authorities/<uuid:authority_id>/cases/<uuid:case_id>/meetings/<uuid:meeting_id>"
    "/invitation.ics"
)
@requires(WORK)
def staff_invitation(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    return _ics(access.meeting_or_404(case, meeting_id), case.reference or "")


def _ics(meeting: Meeting, reference: str) -> Response:
    return Response(
        service.invitation(meeting, reference),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="meeting-{reference}.ics"'},
    )


# Partner organisations


@bp.route("/organisations/<uuid:organisation_id>/requests")
@requires(ANSWER)
def request_list(user: User, organisation: Organisation) -> ResponseReturnValue:
    requests = db.session.scalars(
        access.requests_of(organisation).order_by(
            InformationRequest.submitted_at.is_not(None), InformationRequest.due_at
        )
    ).all()
    return render_template(
        "meetings/request_list.html",
        organisation=organisation,
        requests=requests,
        references=_references(requests),
        now=utcnow(),
    )


def _references(requests: Sequence[InformationRequest]) -> dict[uuid.UUID, str]:
    """The case references of the requests (all a partner is told about the case)."""
    ids = {r.case_id for r in requests}
    found = db.session.execute(select(Case.id, Case.reference).where(Case.id.in_(ids)))
    return {case_id: reference or "" for case_id, reference in found}


@bp.route(
    "/organisations/<uuid:organisation_id>/requests/<uuid:request_id>", methods=["GET", "POST"]
)
@requires(ANSWER)
def answer(user: User, organisation: Organisation, request_id: uuid.UUID) -> ResponseReturnValue:
    found = access.request_or_404(organisation, request_id)
    questions = service.checklist(found)
    sent = found.submitted_at is not None
    form = answer_form(questions, data=found.answers or {} if request.method == "GET" else None)
    if not sent and form.validate_on_submit():
        send = bool(form.send.data)
        answers = {q.key: getattr(form, q.key).data or "" for q in questions}
        service.save_answers(found, user, answers, send=send, address_hash=address_hash())
        db.session.commit()
        if send:
            flash("Your answers have been sent to the LADO.", "success")
        else:
            flash("Your answers have been saved. They have not been sent yet.", "success")
        return redirect(
            url_for("meetings.answer", organisation_id=organisation.id, request_id=found.id)
        )
    if request.method == "GET":
        audit.record(
            AuditKind.REQUEST_VIEWED,
            actor_id=user.id,
            authority_id=found.authority_id,
            organisation_id=organisation.id,
            case_id=found.case_id,
            address_hash=address_hash(),
            request_id=str(found.id),
        )
        db.session.commit()
    reference = _references([found])[found.case_id]
    return render_template(
        "meetings/answer.html",
        form=form,
        organisation=organisation,
        found=found,
        reference=reference,
        questions=questions,
        checklist=CHECKLISTS[found.agency],
        sent=sent,
        now=utcnow(),
        authority=db.session.get_one(Authority, found.authority_id),
    )


@bp.route("/organisations/<uuid:organisation_id>/requests/<uuid:request_id>/invitation.ics")
@requires(ANSWER)
def partner_invitation(
    user: User, organisation: Organisation, request_id: uuid.UUID
) -> ResponseReturnValue:
    found = access.request_or_404(organisation, request_id)
    return _ics(found.meeting, _references([found])[found.case_id])
