"""Meetings, for the LADO's team (AUTHORITY_CASES_WORK: cases found through
access.case_or_404): arranging one, asking the agencies, reading their answers, and what
follows the meeting. The partners' pages are in partner_views, the administrators' own
checklist questions in checklist_views; both use the helpers at the end of this module
(references, downloads, the .ics)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal import access, audit, workflow
from portal.access import Permission, requires
from portal.auth.views import address_hash, stepped_up
from portal.casework import service as case_service
from portal.checklists import Agency, agency_for
from portal.extensions import db
from portal.files import FileTooLargeError
from portal.meetings import after, bp, service
from portal.meetings.forms import (
    ActionForm,
    ArrangeForm,
    InvitePersonForm,
    MinutesForm,
    RecordForm,
    RequestForm,
)
from portal.models import (
    ActionStatus,
    AuditKind,
    Authority,
    Case,
    Deadline,
    DeadlineKind,
    DelayReason,
    InformationRequest,
    Meeting,
    MeetingAction,
    MeetingKind,
    Organisation,
    RequestAttachment,
    User,
    utcnow,
)
from portal.pages import drawn_then_committed
from portal.referrals import uploads
from portal.workdays import end_of_uk_day, uk_date

WORK = Permission.AUTHORITY_CASES_WORK
MEETING_URL = "/authorities/<uuid:authority_id>/cases/<uuid:case_id>/meetings/<uuid:meeting_id>"


def _case_url(authority: Authority, case: Case) -> str:
    return url_for("casework.case_page", authority_id=authority.id, case_id=case.id)


def meeting_url(authority: Authority, meeting: Meeting, page: str = "meeting_page") -> str:
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
            return redirect(meeting_url(authority, meeting))
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
    people = access.staff_by_id(authority)
    # Partners invited by name, and those given actions.
    named = {i.user_id for i in meeting.invitees if i.user_id} - people.keys()
    if named:
        people |= {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(named)))}
    meeting_actions = db.session.scalars(
        select(MeetingAction)
        .where(MeetingAction.meeting_id == meeting.id)
        .order_by(MeetingAction.due_on, MeetingAction.created_at)
    ).all()
    clocks = {
        d.kind: d
        for d in db.session.scalars(
            select(Deadline)
            .where(
                Deadline.case_id == case.id,
                Deadline.kind.in_((DeadlineKind.ACTIONS, DeadlineKind.MINUTES)),
                Deadline.starts_at >= meeting.starts_at,
            )
            .order_by(Deadline.starts_at.desc())
        )
    }
    audit.about_case(
        AuditKind.MEETING_VIEWED,
        case,
        user.id,
        address_hash(),
        meeting_id=str(meeting.id),
        page=template.rsplit("/", 1)[-1].removesuffix(".html"),
    )
    return drawn_then_committed(
        template,
        case=case,
        authority=authority,
        meeting=meeting,
        kind=service.kind_label(meeting.kind, authority),
        requests=requests,
        columns=_side_by_side(requests),
        organisations=organisations,
        people=people,
        actions=meeting_actions,
        files={r.id: service.files_of(r) for r in requests if r.submitted_at},
        owners=_owner_names(meeting_actions, people),
        clocks=clocks,
        rules=workflow.DEADLINE_RULES,
        now=utcnow(),
    )


def _owner_names(
    actions: Sequence[MeetingAction], people: dict[uuid.UUID, User]
) -> dict[uuid.UUID, str]:
    """Who each action is given to: an organisation, a member of the team, or one of a
    partner's people invited by name (looked up here when not among ``people``)."""
    organisations = {
        o.id: o.name
        for o in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_({a.owner_organisation_id for a in actions})
            )
        )
    }
    others = {a.owner_user_id for a in actions if a.owner_user_id} - people.keys()
    if others:
        people = people | {
            u.id: u for u in db.session.scalars(select(User).where(User.id.in_(others)))
        }
    names = {}
    for action in actions:
        person = people.get(action.owner_user_id) if action.owner_user_id else None
        organisation = (
            organisations.get(action.owner_organisation_id)
            if action.owner_organisation_id
            else None
        )
        names[action.id] = organisation or (
            person.full_name if person else "Someone no longer here"
        )
    return names


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
    nobody: Organisation | None = None
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
            nobody = _nobody_in(problem)
        else:
            db.session.commit()
            flash(f"{organisation.name} has been asked, and its users told.", "success")
            return redirect(meeting_url(authority, meeting))
    return render_template(
        "meetings/ask.html",
        form=form,
        case=case,
        authority=authority,
        meeting=meeting,
        default_due=service.default_due(meeting),
        usual={key: agency_for(o.type).label for key, o in organisations.items()},
        **_offer(user, nobody),
    )


@bp.route(f"{MEETING_URL}/invitees/new", methods=["GET", "POST"])
@requires(WORK)
def invite_person(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    """Invite one of an organisation's people by name (the arrange page invites whole
    organisations)."""
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    organisations = {str(o.id): o for o in db.session.scalars(access.organisations_of(authority))}
    form = InvitePersonForm(
        organisations=[SelectChoice(key, o.name) for key, o in organisations.items()]
    )
    nobody: Organisation | None = None
    if form.validate_on_submit():
        try:
            person = service.invite_person(
                case,
                meeting,
                organisations[form.organisation.data],
                form.email.data or "",
                user,
                address_hash(),
            )
        except service.MeetingProblemError as problem:
            getattr(form, problem.field_name).errors = [str(problem)]
            nobody = _nobody_in(problem)
        else:
            db.session.commit()
            flash(f"{person.full_name} has been invited and told.", "success")
            return redirect(meeting_url(authority, meeting))
    return render_template(
        "meetings/invite_person.html",
        form=form,
        case=case,
        authority=authority,
        meeting=meeting,
        **_offer(user, nobody),
    )


def _nobody_in(problem: service.MeetingProblemError) -> Organisation | None:
    return problem.organisation if isinstance(problem, service.NoOneToAnswerError) else None


def _offer(user: User, nobody: Organisation | None) -> dict[str, object]:
    """When an organisation has no one to answer for it: a link to add someone, for
    whoever may; otherwise the offer to ask its administrators."""
    can_add = nobody is not None and access.manages_people_in(user, nobody)
    return {"nobody": nobody, "can_add": can_add}


@bp.route(f"{MEETING_URL}/organisations/<uuid:organisation_id>/someone-needed", methods=["POST"])
@requires(WORK)
def someone_needed(
    user: User,
    authority: Authority,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    organisation_id: uuid.UUID,
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    organisation = db.session.scalars(
        access.organisations_of(authority).where(Organisation.id == organisation_id)
    ).first() or abort(404)
    told = service.ask_for_someone(case, organisation, user, address_hash())
    db.session.commit()
    if told:
        flash(
            f"{organisation.name}'s administrators have been asked to add someone. Ask "
            "again once they have.",
            "success",
        )
    else:
        flash(
            f"No one can add people to {organisation.name} yet. Ask the portal's "
            "administrators to add its administrator.",
            "important",
        )
    return redirect(meeting_url(authority, meeting))


@bp.route(
    "/authorities/<uuid:authority_id>/cases/<uuid:case_id>/meetings/<uuid:meeting_id>"
    "/invitation.ics"
)
@requires(WORK)
def staff_invitation(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    return ics_response(access.meeting_or_404(case, meeting_id), case.reference or "")


def ics_response(meeting: Meeting, reference: str) -> Response:
    return Response(
        service.invitation(meeting, reference),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="meeting-{reference}.ics"'},
    )


def references_of(found: Sequence[InformationRequest | Meeting]) -> dict[uuid.UUID, str]:
    """The case references of requests or meetings (all a partner is told of the case)."""
    ids = {r.case_id for r in found}
    rows = db.session.execute(select(Case.id, Case.reference).where(Case.id.in_(ids)))
    return {case_id: reference or "" for case_id, reference in rows}


@bp.route(f"{MEETING_URL}/requests/<uuid:request_id>/files/<uuid:file_id>")
@requires(WORK)
@stepped_up
def staff_file(
    user: User,
    authority: Authority,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    request_id: uuid.UUID,
    file_id: uuid.UUID,
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    found = db.session.scalars(
        select(InformationRequest).where(
            InformationRequest.id == request_id,
            InformationRequest.meeting_id == meeting.id,
            InformationRequest.submitted_at.is_not(None),  # a draft is the agency's own
        )
    ).first()
    if found is None:
        abort(404)
    return download_file(found, file_id, user)


def file_or_404(found: InformationRequest, file_id: uuid.UUID) -> RequestAttachment:
    attachment = next((f for f in service.files_of(found) if f.id == file_id), None)
    if attachment is None:
        abort(404)
    return attachment


def download_file(found: InformationRequest, file_id: uuid.UUID, user: User) -> ResponseReturnValue:
    attachment = file_or_404(found, file_id)
    opened = service.open_file(found, user, attachment, address_hash())
    db.session.commit()
    return send_file(
        opened,
        mimetype=attachment.media_type,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )


# After the meeting (the LADO's team)


def _owners(authority: Authority, meeting: Meeting) -> dict[str, tuple[Organisation | User, str]]:
    """Who an action can be given to, with how each is named: an organisation invited,
    one of a partner's people invited by name, or a case worker."""
    organisations = {
        o.id: o
        for o in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_({i.organisation_id for i in meeting.invitees})
            )
        )
    }
    owners: dict[str, tuple[Organisation | User, str]] = {}
    named: dict[uuid.UUID, Organisation] = {}
    for invitee in meeting.invitees:
        if invitee.organisation_id is None:
            continue
        organisation = organisations[invitee.organisation_id]
        if invitee.user_id is None:
            owners[f"organisation:{organisation.id}"] = (organisation, organisation.name)
        else:
            named[invitee.user_id] = organisation
    if named:
        for person in db.session.scalars(select(User).where(User.id.in_(named))):
            label = f"{person.full_name}, {named[person.id].name}"
            owners[f"user:{person.id}"] = (person, label)
    for user in case_service.officers(authority):
        owners[f"user:{user.id}"] = (user, user.full_name)
    return owners


@bp.route(f"{MEETING_URL}/record", methods=["GET", "POST"])
@requires(WORK)
def record(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    if meeting.held_at is not None:
        return redirect(meeting_url(authority, meeting))
    form = RecordForm()
    now = utcnow()
    late = workflow.overdue_deadlines(case, now)
    if form.validate_on_submit():
        reason = form.delay_reason.data
        try:
            after.record_held(
                case,
                meeting,
                user,
                attendance=form.attendance.data or "",
                decisions=form.decisions.data or "",
                delay_reason=DelayReason(reason) if reason else None,
                delay_detail=form.delay_detail.data,
                address_hash=address_hash(),
                now=now,
            )
        except workflow.DelayReasonNeededError as error:
            form.delay_reason.errors = [str(error)]
        except (service.MeetingProblemError, workflow.MissingAnswerError) as problem:
            getattr(form, problem.field_name).errors = [str(problem)]
        except workflow.WorkflowError as problem:
            form.attendance.errors = [str(problem)]
        else:
            db.session.commit()
            flash("The meeting has been recorded. Send its actions within 24 hours.", "success")
            return redirect(meeting_url(authority, meeting))
    return render_template(
        "meetings/record.html",
        form=form,
        case=case,
        authority=authority,
        meeting=meeting,
        kind=service.kind_label(meeting.kind, authority),
        late=[workflow.DEADLINE_RULES[d.kind].label.lower() for d in late],
    )


@bp.route(f"{MEETING_URL}/actions", methods=["GET", "POST"])
@requires(WORK)
def actions(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    owners = _owners(authority, meeting)
    form = ActionForm(owners=[SelectChoice(key, label) for key, (_, label) in owners.items()])
    if form.validate_on_submit():
        after.add_action(
            case,
            meeting,
            user,
            text=form.text.data or "",
            owner=owners[form.owner.data][0],
            due_on=form.due_on.required_date,
            address_hash=address_hash(),
        )
        db.session.commit()
        flash("The action has been added.", "success")
        return redirect(meeting_url(authority, meeting) + "#actions")
    return render_template(
        "meetings/action.html",
        form=form,
        case=case,
        authority=authority,
        meeting=meeting,
        kind=service.kind_label(meeting.kind, authority),
    )


@bp.route(
    f"{MEETING_URL}/actions/<uuid:action_id>/<any(done, dropped, open):state>", methods=["POST"]
)
@requires(WORK)
def action_state(
    user: User,
    authority: Authority,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    action_id: uuid.UUID,
    state: str,
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    action = _action_or_404(meeting, action_id)
    after.close_action(case, action, user, ActionStatus(state), address_hash())
    db.session.commit()
    return redirect(meeting_url(authority, meeting) + "#actions")


@bp.route("/authorities/<uuid:authority_id>/actions")
@requires(WORK)
def outstanding(user: User, authority: Authority) -> ResponseReturnValue:
    """Every open action of the authority's meetings, soonest to chase first."""
    found = after.outstanding(authority)
    meetings = {
        m.id: m
        for m in db.session.scalars(
            select(Meeting).where(
                Meeting.authority_id == authority.id,
                Meeting.id.in_({a.meeting_id for a in found}),
            )
        )
    }
    people = access.staff_by_id(authority)
    audit.record(
        AuditKind.ACTIONS_LISTED,
        actor_id=user.id,
        authority_id=authority.id,
        address_hash=address_hash(),
        shown=len(found),
    )
    return drawn_then_committed(
        "meetings/outstanding.html",
        authority=authority,
        actions=found,
        meetings=meetings,
        references=references_of(list(meetings.values())),
        owners=_owner_names(found, people),
        chase_on=after.chase_on,
        today=uk_date(utcnow()),
    )


@bp.route(f"{MEETING_URL}/actions/<uuid:action_id>/chased", methods=["POST"])
@requires(WORK)
def chased(
    user: User,
    authority: Authority,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    action_id: uuid.UUID,
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    action = _action_or_404(meeting, action_id)
    after.record_chase(case.id, action, user, address_hash())
    db.session.commit()
    flash("The chase has been recorded. The next is due in a fortnight.", "success")
    return redirect(url_for("meetings.outstanding", authority_id=authority.id))


def _action_or_404(meeting: Meeting, action_id: uuid.UUID) -> MeetingAction:
    action = db.session.scalars(
        select(MeetingAction).where(
            MeetingAction.id == action_id, MeetingAction.meeting_id == meeting.id
        )
    ).first()
    if action is None:
        abort(404)
    return action


@bp.route(f"{MEETING_URL}/send/<any(actions, minutes):what>", methods=["POST"])
@requires(WORK)
def send(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID, what: str
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    try:
        after.send(case, meeting, user, DeadlineKind(what), address_hash())
    except service.MeetingProblemError as problem:
        flash(str(problem), "important")
    else:
        db.session.commit()
        flash(f"The {what} have been sent to everyone invited.", "success")
    return redirect(meeting_url(authority, meeting) + f"#{what}")


@bp.route(f"{MEETING_URL}/minutes", methods=["GET", "POST"])
@requires(WORK)
def minutes(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    meeting = access.meeting_or_404(case, meeting_id)
    if meeting.minutes_sent_at is not None:
        return redirect(meeting_url(authority, meeting) + "#minutes")
    form = MinutesForm(data={"minutes": meeting.minutes} if request.method == "GET" else None)
    if form.validate_on_submit():
        meeting.minutes = (form.minutes.data or "").strip() or None
        chosen = form.file.data
        if chosen and getattr(chosen, "filename", ""):
            try:
                after.attach_minutes(case, meeting, user, chosen.stream, chosen.filename)
            except uploads.UploadRefusedError as refused:
                form.file.errors = [str(refused)]
            except FileTooLargeError:
                form.file.errors = [uploads.TOO_LARGE]
        if not form.file.errors and form.send.data:
            try:
                after.send(case, meeting, user, DeadlineKind.MINUTES, address_hash())
            except service.MeetingProblemError as problem:
                form.minutes.errors = [str(problem)]
        if form.file.errors or form.minutes.errors:
            # What was typed stays on the page; nothing is sent.
            db.session.rollback()
            return _minutes_page(form, case, authority, meeting)
        audit.about_case(
            AuditKind.MEETING_MINUTES_SAVED,
            case,
            user.id,
            address_hash(),
            meeting_id=str(meeting.id),
        )
        db.session.commit()
        flash(
            "The minutes have been sent to everyone invited."
            if form.send.data
            else "The minutes have been saved. They have not been sent yet.",
            "success",
        )
        return redirect(meeting_url(authority, meeting) + "#minutes")
    return _minutes_page(form, case, authority, meeting)


@bp.route(f"{MEETING_URL}/minutes-document")
@requires(WORK)
@stepped_up
def staff_minutes_document(
    user: User, authority: Authority, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    case = access.case_or_404(authority, case_id)
    return minutes_download(access.meeting_or_404(case, meeting_id), user)


def minutes_download(meeting: Meeting, user: User) -> ResponseReturnValue:
    if meeting.minutes_file_id is None:
        abort(404)
    opened = after.open_minutes(meeting)
    audit.record(
        AuditKind.MEETING_MINUTES_DOWNLOADED,
        actor_id=user.id,
        authority_id=meeting.authority_id,
        case_id=meeting.case_id,
        address_hash=address_hash(),
        meeting_id=str(meeting.id),
    )
    db.session.commit()
    return send_file(
        opened,
        mimetype=meeting.minutes_media_type or "application/octet-stream",
        as_attachment=True,
        download_name=meeting.minutes_filename or "minutes",
        max_age=0,
    )


def _minutes_page(
    form: MinutesForm, case: Case, authority: Authority, meeting: Meeting
) -> ResponseReturnValue:
    return render_template(
        "meetings/minutes.html",
        form=form,
        case=case,
        authority=authority,
        meeting=meeting,
        kind=service.kind_label(meeting.kind, authority),
    )
