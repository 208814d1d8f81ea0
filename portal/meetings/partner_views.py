"""The pages of the partner organisations a LADO asks or invites (ORGANISATION_REQUESTS_ANSWER):
their requests for information, their answers and files, and the meetings they are
invited to. Requests and meetings are found only through access.request_or_404 and
access.invited_meeting_or_404; of the case a partner sees its reference and the meeting."""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select

from portal import access, audit
from portal.access import Permission, requires
from portal.auth.views import address_hash
from portal.checklists import CHECKLISTS
from portal.extensions import db
from portal.files import FileTooLargeError
from portal.meetings import bp, service
from portal.meetings.forms import (
    answer_form,
)
from portal.meetings.views import (
    download_file,
    file_or_404,
    ics_response,
    minutes_download,
    references_of,
)
from portal.models import (
    AuditKind,
    Authority,
    InformationRequest,
    Meeting,
    MeetingAction,
    Organisation,
    User,
    utcnow,
)
from portal.pages import drawn_then_committed
from portal.referrals import uploads
from portal.vocabulary import OrganisationType

ANSWER = Permission.ORGANISATION_REQUESTS_ANSWER


@bp.route("/organisations/<uuid:organisation_id>/requests")
@requires(ANSWER)
def request_list(user: User, organisation: Organisation) -> ResponseReturnValue:
    requests = db.session.scalars(
        access.requests_of(organisation).order_by(
            InformationRequest.submitted_at.is_not(None), InformationRequest.due_at
        )
    ).all()
    meetings = db.session.scalars(
        access.invited_meetings_of(organisation, user).order_by(Meeting.starts_at.desc())
    ).all()
    return render_template(
        "meetings/request_list.html",
        organisation=organisation,
        requests=requests,
        meetings=meetings,
        references=references_of([*requests, *meetings]),
        now=utcnow(),
    )


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
        answers = {q.key: getattr(form, q.key).data or "" for q in questions}
        refused = _attach_chosen_file(form, found, user)
        # A refused file stops a send, never the answers typed: they are kept as a draft.
        send = bool(form.send.data) and refused is None
        service.save_answers(found, user, answers, send=send, address_hash=address_hash())
        db.session.commit()
        if refused is None:
            if send:
                flash("Your answers have been sent to the LADO.", "success")
            elif form.upload.data:
                flash("The file has been added. Your answers have been saved too.", "success")
            else:
                flash("Your answers have been saved. They have not been sent yet.", "success")
            return redirect(
                url_for("meetings.answer", organisation_id=organisation.id, request_id=found.id)
            )
        form.file.errors = [refused]
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
    reference = references_of([found])[found.case_id]
    return render_template(
        "meetings/answer.html",
        form=form,
        organisation=organisation,
        found=found,
        reference=reference,
        questions=questions,
        checklist=CHECKLISTS[found.agency],
        sent=sent,
        files=service.files_of(found),
        now=utcnow(),
        authority=db.session.get_one(Authority, found.authority_id),
        updates=db.session.scalars(access.updates_for(organisation, found.case_id)).all(),
        police=organisation.type == OrganisationType.POLICE,
    )


def _attach_chosen_file(form: Any, found: InformationRequest, user: User) -> str | None:
    """Store the file chosen with the answers, if any: why it was refused, or None."""
    chosen = form.file.data
    if not chosen or not getattr(chosen, "filename", ""):
        return uploads.NONE_CHOSEN if form.upload.data else None
    try:
        service.attach(found, user, chosen.stream, chosen.filename, address_hash())
    except uploads.UploadRefusedError as refused:
        return str(refused)
    except FileTooLargeError:
        return uploads.TOO_LARGE
    return None


@bp.route("/organisations/<uuid:organisation_id>/requests/<uuid:request_id>/files/<uuid:file_id>")
@requires(ANSWER)
def partner_file(
    user: User, organisation: Organisation, request_id: uuid.UUID, file_id: uuid.UUID
) -> ResponseReturnValue:
    return download_file(access.request_or_404(organisation, request_id), file_id, user)


@bp.route(
    "/organisations/<uuid:organisation_id>/requests/<uuid:request_id>/files/<uuid:file_id>/remove",
    methods=["POST"],
)
@requires(ANSWER)
def partner_file_remove(
    user: User, organisation: Organisation, request_id: uuid.UUID, file_id: uuid.UUID
) -> ResponseReturnValue:
    found = access.request_or_404(organisation, request_id)
    attachment = file_or_404(found, file_id)
    if found.submitted_at is not None:
        abort(404)  # sent: what was sent stays as it was
    service.detach(found, user, attachment, address_hash())
    db.session.commit()
    flash(f"{attachment.filename} has been removed.", "success")
    return redirect(
        url_for("meetings.answer", organisation_id=organisation.id, request_id=found.id)
    )


@bp.route("/organisations/<uuid:organisation_id>/meetings/<uuid:meeting_id>")
@requires(ANSWER)
def invited_meeting(
    user: User, organisation: Organisation, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    """A meeting the organisation (or the user by name) is invited to: when and where,
    then the actions given to the organisation or to the user, and the minutes, once the
    LADO has sent them."""
    meeting = access.invited_meeting_or_404(organisation, user, meeting_id)
    given = (
        db.session.scalars(
            select(MeetingAction)
            .where(
                MeetingAction.meeting_id == meeting.id,
                or_(
                    MeetingAction.owner_organisation_id == organisation.id,
                    MeetingAction.owner_user_id == user.id,
                ),
            )
            .order_by(MeetingAction.due_on)
        ).all()
        if meeting.actions_sent_at
        else []
    )
    audit.record(
        AuditKind.MEETING_VIEWED,
        actor_id=user.id,
        authority_id=meeting.authority_id,
        organisation_id=organisation.id,
        case_id=meeting.case_id,
        address_hash=address_hash(),
        meeting_id=str(meeting.id),
        page="invited",
    )
    authority = db.session.get_one(Authority, meeting.authority_id)
    return drawn_then_committed(
        "meetings/invited.html",
        organisation=organisation,
        meeting=meeting,
        reference=references_of([meeting])[meeting.case_id],
        kind=service.kind_label(meeting.kind, authority),
        authority=authority,
        actions=given,
    )


@bp.route("/organisations/<uuid:organisation_id>/meetings/<uuid:meeting_id>/invitation.ics")
@requires(ANSWER)
def invited_invitation(
    user: User, organisation: Organisation, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    meeting = access.invited_meeting_or_404(organisation, user, meeting_id)
    return ics_response(meeting, references_of([meeting])[meeting.case_id])


@bp.route("/organisations/<uuid:organisation_id>/requests/<uuid:request_id>/invitation.ics")
@requires(ANSWER)
def partner_invitation(
    user: User, organisation: Organisation, request_id: uuid.UUID
) -> ResponseReturnValue:
    found = access.request_or_404(organisation, request_id)
    return ics_response(found.meeting, references_of([found])[found.case_id])


@bp.route("/organisations/<uuid:organisation_id>/meetings/<uuid:meeting_id>/minutes-document")
@requires(ANSWER)
def invited_minutes_document(
    user: User, organisation: Organisation, meeting_id: uuid.UUID
) -> ResponseReturnValue:
    meeting = access.invited_meeting_or_404(organisation, user, meeting_id)
    if meeting.minutes_sent_at is None:
        abort(404)  # the invitees' once sent
    return minutes_download(meeting, user)
