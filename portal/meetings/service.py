"""Meetings on a case and the information the LADO asks of the agencies before one.

Arranging a meeting records who is invited and tells them by e-mail that there is a
meeting to sign in and read about (the reference and the date; never what the case is
about). A request asks one organisation to answer its agency's checklist
(portal.checklists) by a due date; its users save drafts and send it, late or not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import IO

from icalendar import Calendar, Event
from sqlalchemy import select

from portal import access, audit, files, notify
from portal.auth.service import user_by_email
from portal.checklists import Agency, Question, questions
from portal.crypto.keys import KeyOwner
from portal.extensions import db
from portal.formatting import date_and_time, long_date
from portal.models import (
    AuditKind,
    Authority,
    Case,
    CaseStatus,
    ChecklistQuestion,
    Deadline,
    DeadlineKind,
    DelayReason,
    InformationRequest,
    Meeting,
    MeetingInvitee,
    MeetingKind,
    Organisation,
    RequestAttachment,
    StoredFile,
    User,
    utcnow,
)
from portal.referrals import uploads
from portal.workdays import end_of_uk_day, is_working_day, uk_date, working_day_before

# Meetings are arranged once a contact is a referral, until its outcome.
MEETING_STATUSES = frozenset(
    {
        CaseStatus.REFERRAL,
        CaseStatus.STRATEGY_DISCUSSION,
        CaseStatus.MEETINGS,
        CaseStatus.AWAITING_AGENCY,
    }
)


class MeetingProblemError(Exception):
    """Something about the answers stops the meeting or request: the field, and why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name


class NoOneToAnswerError(MeetingProblemError):
    """The organisation has no one who can sign in to answer for it: the page offers to
    have someone added."""

    def __init__(self, field_name: str, organisation: Organisation, message: str) -> None:
        super().__init__(field_name, message)
        self.organisation = organisation


def kind_label(kind: MeetingKind, authority: Authority) -> str:
    """The allegations meeting goes by the authority's own name for it."""
    if kind == MeetingKind.ALLEGATIONS:
        return f"{authority.meeting_name.value} meeting"
    return kind.label


# The time-scale each kind of meeting keeps: its deadline started with the referral.
CLOCKS = {
    MeetingKind.STRATEGY_DISCUSSION: DeadlineKind.STRATEGY_DISCUSSION,
    MeetingKind.EVALUATION: DeadlineKind.ALLEGATIONS_MEETING,
    MeetingKind.ALLEGATIONS: DeadlineKind.ALLEGATIONS_MEETING,
    MeetingKind.REVIEW: DeadlineKind.REVIEW_MEETING,
}


def missed_by(case: Case, kind: MeetingKind, starts_at: datetime) -> Deadline | None:
    """The case's open deadline that a meeting of this kind at that time would miss."""
    return db.session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id,
            Deadline.kind == CLOCKS[kind],
            Deadline.met_at.is_(None),
            Deadline.due_at < starts_at,
        )
    ).first()


def date_warnings(starts_at: datetime, now: datetime) -> list[str]:
    """Why the date may be a mistake: allowed, with a reason."""
    warnings = []
    if starts_at < now:
        warnings.append("The date and time are in the past")
    if not is_working_day(uk_date(starts_at)):
        warnings.append("The date is not a working day (a weekend or a bank holiday)")
    return warnings


def arrange(
    case: Case,
    actor: User,
    *,
    kind: MeetingKind,
    starts_at: datetime,
    minutes_long: int,
    place: str,
    chair: User,
    organisations: Sequence[Organisation],
    staff: Sequence[User],
    date_reason: str | None,
    address_hash: str | None,
    delay_reason: DelayReason | None = None,
    delay_detail: str | None = None,
    now: datetime | None = None,
) -> Meeting:
    """Arrange it. A meeting after its time-scale (an allegations meeting more than 5
    working days after receipt, say) records why on that deadline, as the annual report
    counts delays."""
    now = now or utcnow()
    if case.received_at and uk_date(starts_at) < uk_date(case.received_at):
        raise MeetingProblemError(
            "date",
            f"The date must be on or after {long_date(case.received_at)}, "
            "when the contact was received",
        )
    reason = (date_reason or "").strip()
    if date_warnings(starts_at, now) and not reason:
        raise MeetingProblemError(
            "date_reason", "Say why the meeting is on that date, or choose another date"
        )
    late = missed_by(case, kind, starts_at)
    if late is not None:
        if delay_reason is None:
            raise MeetingProblemError("delay_reason", "Select why the time-scale will be missed")
        late.delay_reason = delay_reason
        late.delay_detail = (delay_detail or "").strip() or None
    meeting = Meeting(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=case.authority_id,
        kind=kind,
        starts_at=starts_at,
        minutes_long=minutes_long,
        chair_id=chair.id,
        arranged_by_id=actor.id,
        arranged_at=now,
    )
    meeting.place = place.strip()
    meeting.date_reason = reason or None
    invited_staff = {chair.id: chair, **{user.id: user for user in staff}}
    for organisation in organisations:
        meeting.invitees.append(_invitee(meeting, organisation_id=organisation.id))
    for user in invited_staff.values():
        meeting.invitees.append(_invitee(meeting, user_id=user.id))
    db.session.add(meeting)
    tell(
        [*invited_staff.values(), *answerers(*organisations)],
        "meeting_invitation",
        case.authority_id,
        case.reference,
        when=date_and_time(starts_at),
    )
    audit.about_case(
        AuditKind.MEETING_ARRANGED,
        case,
        actor.id,
        address_hash,
        meeting_id=str(meeting.id),
        meeting_kind=kind.value,
        organisations=len(organisations),
        staff=len(invited_staff),
    )
    return meeting


def tell(
    people: Iterable[User],
    template: str,
    authority_id: uuid.UUID,
    reference: str | None,
    **extra: str,
) -> None:
    """E-mail each person (once) that there is something to sign in and read or do: the
    authority's name and at most the case's reference, never what it is about."""
    authority = db.session.get_one(Authority, authority_id)
    for person in {user.id: user for user in people}.values():
        notify.queue_email(
            template,
            person.email,
            related_user_id=person.id,
            full_name=person.full_name,
            authority=authority.display_name,
            reference=reference,
            sign_in_url=notify.absolute_url("auth.sign_in"),
            **extra,
        )


def _invitee(
    meeting: Meeting,
    *,
    organisation_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> MeetingInvitee:
    return MeetingInvitee(
        id=uuid.uuid4(),
        meeting_id=meeting.id,
        case_id=meeting.case_id,
        authority_id=meeting.authority_id,
        organisation_id=organisation_id,
        user_id=user_id,
    )


def invite_person(
    case: Case,
    meeting: Meeting,
    organisation: Organisation,
    email: str,
    actor: User,
    address_hash: str | None,
) -> User:
    """Invite one of an organisation's people by name, rather than everyone at it who
    can answer. They see the meeting, the actions given to them or to the organisation
    and the minutes, as an invited organisation's people do."""
    person = user_by_email(email)
    if person is None or person.id not in {user.id for user in answerers(organisation)}:
        # The same words whether the address is unknown or belongs elsewhere.
        raise NoOneToAnswerError(
            "email",
            organisation,
            f"No one with that email address can sign in for {organisation.name}",
        )
    for invitee in meeting.invitees:
        if invitee.organisation_id == organisation.id and invitee.user_id is None:
            raise MeetingProblemError(
                "email", f"Everyone at {organisation.name} is already invited"
            )
        if invitee.user_id == person.id:
            raise MeetingProblemError("email", f"{person.full_name} is already invited")
    meeting.invitees.append(_invitee(meeting, organisation_id=organisation.id, user_id=person.id))
    tell(
        [person],
        "meeting_invitation",
        case.authority_id,
        case.reference,
        when=date_and_time(meeting.starts_at),
    )
    audit.about_case(
        AuditKind.MEETING_INVITEE_ADDED,
        case,
        actor.id,
        address_hash,
        meeting_id=str(meeting.id),
        invited_user_id=str(person.id),
        invited_organisation_id=str(organisation.id),
    )
    return person


def who_can_add_people(organisation: Organisation) -> list[User]:
    """The organisation's own administrators and those of the authority that manages
    its accounts."""
    managers = [
        user
        for user in db.session.scalars(access.members_of(organisation))
        if access.Permission.ORGANISATION_MEMBERS_MANAGE
        in access.permissions_in(user, organisation_id=organisation.id)
    ]
    for authority_id in access.managing_authorities(organisation):
        authority = db.session.get_one(Authority, authority_id)
        managers += [
            user
            for user in db.session.scalars(access.staff_of(authority))
            if access.Permission.AUTHORITY_ORGANISATIONS_MANAGE
            in access.permissions_in(user, authority_id=authority_id)
        ]
    return managers


def ask_for_someone(
    case: Case, organisation: Organisation, actor: User, address_hash: str | None
) -> int:
    """E-mail whoever can add people to the organisation that the LADO's team needs
    someone there who can answer: which organisation, never which case. How many were
    told (none: the page says to contact the portal's administrators)."""
    administrators = who_can_add_people(organisation)
    tell(
        administrators,
        "someone_needed",
        case.authority_id,
        None,  # the organisation, never the case
        organisation=organisation.name,
        asked_by=actor.full_name,
    )
    audit.about_case(
        AuditKind.SOMEONE_NEEDED,
        case,
        actor.id,
        address_hash,
        asked_organisation_id=str(organisation.id),
        told=len(administrators),
    )
    return len(administrators)


def answerers(*organisations: Organisation) -> list[User]:
    """The organisations' people who can answer requests (told of each one)."""
    return [
        user
        for organisation in organisations
        for user in db.session.scalars(access.members_of(organisation))
        if access.Permission.ORGANISATION_REQUESTS_ANSWER
        in access.permissions_in(user, organisation_id=organisation.id)
    ]


def default_due(meeting: Meeting) -> datetime:
    """The end of the last working day before the meeting."""
    return end_of_uk_day(working_day_before(uk_date(meeting.starts_at)))


def request_information(
    case: Case,
    meeting: Meeting,
    organisation: Organisation,
    agency: Agency,
    due_at: datetime,
    actor: User,
    address_hash: str | None,
) -> InformationRequest:
    answering = answerers(organisation)
    if not answering:
        raise NoOneToAnswerError(
            "organisation",
            organisation,
            f"{organisation.name} has no one who can sign in to answer. Someone has to be "
            "added to it first",
        )
    asked = db.session.scalars(
        select(InformationRequest.id).where(
            InformationRequest.meeting_id == meeting.id,
            InformationRequest.organisation_id == organisation.id,
        )
    ).first()
    if asked is not None:
        raise MeetingProblemError(
            "organisation", f"{organisation.name} has already been asked for this meeting"
        )
    request = InformationRequest(
        id=uuid.uuid4(),
        meeting_id=meeting.id,
        case_id=case.id,
        authority_id=case.authority_id,
        organisation_id=organisation.id,
        agency=agency,
        due_at=due_at,
        requested_by_id=actor.id,
        requested_at=utcnow(),
    )
    db.session.add(request)
    tell(
        answering,
        "information_request",
        case.authority_id,
        case.reference,
        organisation=organisation.name,
        due=date_and_time(due_at),
    )
    audit.about_case(
        AuditKind.INFORMATION_REQUESTED,
        case,
        actor.id,
        address_hash,
        request_id=str(request.id),
        meeting_id=str(meeting.id),
        asked_organisation_id=str(organisation.id),
        agency=agency.value,
    )
    return request


def checklist(request: InformationRequest) -> list[Question]:
    """The request's questions: its agency's, then its authority's own (those removed
    since stay where this request has an answer to them)."""
    answered = set((request.answers or {}).keys())
    added = [
        question
        for question, retired in _added(request.authority_id, request.agency)
        if not retired or question.key in answered
    ]
    return questions(request.agency, added)


def added_questions(authority_id: uuid.UUID, agency: Agency) -> list[Question]:
    """The authority's own questions asked now."""
    return [q for q, retired in _added(authority_id, agency) if not retired]


def _added(authority_id: uuid.UUID, agency: Agency) -> list[tuple[Question, bool]]:
    rows = db.session.scalars(
        select(ChecklistQuestion)
        .where(ChecklistQuestion.authority_id == authority_id, ChecklistQuestion.agency == agency)
        .order_by(ChecklistQuestion.created_at)
    )
    return [
        (Question(f"added_{row.id.hex}", row.text, row.hint), bool(row.retired_at)) for row in rows
    ]


def add_question(
    authority: Authority,
    actor: User,
    agency: Agency,
    text: str,
    hint: str,
    address_hash: str | None,
) -> ChecklistQuestion:
    question = ChecklistQuestion(
        id=uuid.uuid4(),
        authority_id=authority.id,
        agency=agency,
        text=text.strip(),
        hint=hint.strip(),
        created_at=utcnow(),
    )
    db.session.add(question)
    audit.record(
        AuditKind.CHECKLIST_CHANGED,
        actor_id=actor.id,
        authority_id=authority.id,
        address_hash=address_hash,
        added=str(question.id),
        agency=agency.value,
    )
    return question


def retire_question(
    authority: Authority, actor: User, question: ChecklistQuestion, address_hash: str | None
) -> None:
    question.retired_at = utcnow()
    audit.record(
        AuditKind.CHECKLIST_CHANGED,
        actor_id=actor.id,
        authority_id=authority.id,
        address_hash=address_hash,
        removed=str(question.id),
        agency=question.agency.value,
    )


def save_answers(
    request: InformationRequest,
    actor: User,
    answers: dict[str, str],
    *,
    send: bool,
    address_hash: str | None,
    now: datetime | None = None,
) -> None:
    """Keep the answers (a draft), or send them: a request sent after the meeting has
    begun is accepted and marked late."""
    now = now or utcnow()
    request.answers = {key: value.strip() for key, value in answers.items() if value.strip()}
    request.saved_at, request.saved_by_id = now, actor.id
    if send:
        request.submitted_at, request.submitted_by_id = now, actor.id
        request.late = now > request.meeting.starts_at
    audit.record(
        AuditKind.REQUEST_SUBMITTED if send else AuditKind.REQUEST_SAVED,
        actor_id=actor.id,
        authority_id=request.authority_id,
        organisation_id=request.organisation_id,
        case_id=request.case_id,
        address_hash=address_hash,
        request_id=str(request.id),
        late=request.late,
    )


MAX_REQUEST_FILES = 10


def files_of(request: InformationRequest) -> list[RequestAttachment]:
    return list(
        db.session.scalars(
            select(RequestAttachment)
            .where(RequestAttachment.request_id == request.id)
            .order_by(RequestAttachment.uploaded_at)
        )
    )


def attach(
    request: InformationRequest,
    actor: User,
    stream: IO[bytes],
    filename: str | None,
    address_hash: str | None,
) -> RequestAttachment:
    """A file sent with the answers; UploadRefusedError says why one is refused."""
    if len(files_of(request)) >= MAX_REQUEST_FILES:
        raise uploads.UploadRefusedError(
            f"You can send up to {MAX_REQUEST_FILES} files. Remove one to add another"
        )
    stored = uploads.store_checked(
        KeyOwner.case(request.case_id, request.authority_id), stream, filename
    )
    attachment = RequestAttachment(
        id=uuid.uuid4(),
        request_id=request.id,
        case_id=request.case_id,
        authority_id=request.authority_id,
        file_id=stored.file.id,
        media_type=stored.media_type,
        size=stored.file.size,
        uploaded_by_id=actor.id,
    )
    attachment.filename = stored.filename
    db.session.add(attachment)
    _file_audit(AuditKind.REQUEST_FILE_ADDED, request, actor, attachment, address_hash)
    return attachment


def detach(
    request: InformationRequest,
    actor: User,
    attachment: RequestAttachment,
    address_hash: str | None,
) -> None:
    stored = db.session.get(StoredFile, attachment.file_id)
    db.session.delete(attachment)
    db.session.flush()
    if stored is not None:
        files.delete_file(stored)
    _file_audit(AuditKind.REQUEST_FILE_REMOVED, request, actor, attachment, address_hash)


def open_file(
    request: InformationRequest,
    actor: User,
    attachment: RequestAttachment,
    address_hash: str | None,
) -> IO[bytes]:
    opened = files.open_verified(db.session.get_one(StoredFile, attachment.file_id))
    _file_audit(AuditKind.REQUEST_FILE_DOWNLOADED, request, actor, attachment, address_hash)
    return opened


def _file_audit(
    kind: AuditKind,
    request: InformationRequest,
    actor: User,
    attachment: RequestAttachment,
    address_hash: str | None,
) -> None:
    audit.record(
        kind,
        actor_id=actor.id,
        authority_id=request.authority_id,
        organisation_id=request.organisation_id,
        case_id=request.case_id,
        address_hash=address_hash,
        request_id=str(request.id),
        attachment=str(attachment.id),
    )


def invitation(meeting: Meeting, reference: str) -> bytes:
    """The .ics invitation: the case's reference and the time, nothing else (calendars
    are synchronised to places the portal cannot vouch for)."""
    calendar = Calendar()
    calendar.add("prodid", "-//LADO partner portal//meetings//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{meeting.id}@lado-portal")
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.starts_at + timedelta(minutes=meeting.minutes_long))
    event.add("summary", f"LADO meeting: {reference}")
    event.add("description", "Sign in to the LADO portal to read where it is held.")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
