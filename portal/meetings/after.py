"""After a meeting: recording that it was held (who came, what was decided), its
actions and its minutes, and sending them to the invitees.

Recording it moves the case through the state machine (a strategy discussion or a
meeting held) and starts two clocks from the meeting's end: the actions go out within
24 hours, the minutes within the authority's 10 or 15 working days. Sending them meets
those clocks. E-mails say only that there is something to sign in and read.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import IO

from sqlalchemy import select

from portal import audit, files, workflow
from portal.crypto.keys import KeyOwner
from portal.extensions import db
from portal.meetings.service import MeetingProblemError, answerers, tell
from portal.models import (
    ActionStatus,
    AuditKind,
    Authority,
    Case,
    CaseStatus,
    DeadlineKind,
    DelayReason,
    Meeting,
    MeetingAction,
    MeetingKind,
    Organisation,
    StoredFile,
    User,
    utcnow,
)
from portal.referrals import uploads
from portal.subjects import service as subjects


def ends_at(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.minutes_long)


def record_held(
    case: Case,
    meeting: Meeting,
    actor: User,
    *,
    attendance: str,
    decisions: str,
    delay_reason: DelayReason | None,
    delay_detail: str | None,
    address_hash: str | None,
    now: datetime | None = None,
) -> None:
    """Raises MeetingProblemError, or workflow's DelayReasonNeededError when a
    time-scale has been missed and no reason given (nothing is changed then)."""
    now = now or utcnow()
    if meeting.held_at is not None:
        raise MeetingProblemError("attendance", "This meeting has been recorded already")
    if meeting.starts_at > now:
        raise MeetingProblemError(
            "attendance", "The meeting has not started yet: record it once it has been held"
        )
    name = (
        "hold_strategy_discussion"
        if meeting.kind == MeetingKind.STRATEGY_DISCUSSION and case.status == CaseStatus.REFERRAL
        else "hold_meeting"
    )
    if case.status in workflow.TRANSITIONS[name].sources:
        workflow.move(
            case,
            name,
            actor,
            version=case.version,
            delay_reason=delay_reason,
            delay_detail=delay_detail,
            detail={},
            now=now,
            address_hash=address_hash,
        )
    meeting.held_at = now
    meeting.attendance = attendance.strip()
    meeting.decisions = decisions.strip()
    finished = min(ends_at(meeting), now)
    workflow.start_deadline(case, DeadlineKind.ACTIONS, finished)
    workflow.start_deadline(case, DeadlineKind.MINUTES, finished)
    if subjects.told_directly(case):
        workflow.start_deadline(case, DeadlineKind.SUBJECT_UPDATE, finished)
    audit.about_case(
        AuditKind.MEETING_HELD, case, actor.id, address_hash, meeting_id=str(meeting.id)
    )


def add_action(
    case: Case,
    meeting: Meeting,
    actor: User,
    *,
    text: str,
    owner: Organisation | User,
    due_on: date,
    address_hash: str | None,
) -> MeetingAction:
    action = MeetingAction(
        id=uuid.uuid4(),
        meeting_id=meeting.id,
        case_id=case.id,
        authority_id=case.authority_id,
        owner_organisation_id=owner.id if isinstance(owner, Organisation) else None,
        owner_user_id=owner.id if isinstance(owner, User) else None,
        due_on=due_on,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    action.text = text.strip()
    db.session.add(action)
    audit.about_case(
        AuditKind.ACTION_ADDED,
        case,
        actor.id,
        address_hash,
        meeting_id=str(meeting.id),
        action_id=str(action.id),
    )
    return action


def close_action(
    case: Case, action: MeetingAction, actor: User, status: ActionStatus, address_hash: str | None
) -> None:
    action.status = status
    action.closed_at = utcnow() if status != ActionStatus.OPEN else None
    audit.about_case(
        AuditKind.ACTION_CHANGED,
        case,
        actor.id,
        address_hash,
        action_id=str(action.id),
        status=status.value,
    )


def send(
    case: Case,
    meeting: Meeting,
    actor: User,
    what: DeadlineKind,
    address_hash: str | None,
    now: datetime | None = None,
) -> None:
    """Send the actions (DeadlineKind.ACTIONS) or the minutes (MINUTES) to everyone
    invited: their clock is met, and each invitee is told to sign in."""
    now = now or utcnow()
    if meeting.held_at is None:
        raise MeetingProblemError("send", "Record the meeting as held first")
    if what == DeadlineKind.ACTIONS:
        if meeting.actions_sent_at is not None:
            raise MeetingProblemError("send", "The actions have been sent already")
        meeting.actions_sent_at = now
    else:
        if not meeting.minutes and meeting.minutes_file_id is None:
            raise MeetingProblemError(
                "minutes", "Enter the minutes, or upload them, before sending them"
            )
        if meeting.minutes_sent_at is not None:
            raise MeetingProblemError("send", "The minutes have been sent already")
        meeting.minutes_sent_at = now
    workflow.meet_deadline(case, what, now)
    tell(invitees(meeting), f"meeting_{what.value}", case.authority_id, case.reference)
    audit.about_case(
        AuditKind.MEETING_ACTIONS_SENT
        if what == DeadlineKind.ACTIONS
        else AuditKind.MEETING_MINUTES_SENT,
        case,
        actor.id,
        address_hash,
        meeting_id=str(meeting.id),
    )


def invitees(meeting: Meeting) -> list[User]:
    """Everyone invited: people by name (the team's, or a partner's), and the members
    of the organisations invited as a whole who can answer for them."""
    organisation_ids = [
        i.organisation_id for i in meeting.invitees if i.organisation_id and i.user_id is None
    ]
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.id.in_(organisation_ids))
    ).all()
    user_ids = [i.user_id for i in meeting.invitees if i.user_id]
    named = db.session.scalars(select(User).where(User.id.in_(user_ids))).all()
    people = {user.id: user for user in (*named, *answerers(*organisations))}
    return list(people.values())


CHASE_EVERY = timedelta(days=14)


def chase_on(action: MeetingAction) -> date:
    """When an open action is next to be chased: on its due date, then a fortnight after
    each chase."""
    if action.chased_at is None:
        return action.due_on
    return max(action.due_on, (action.chased_at + CHASE_EVERY).date())


def record_chase(
    case_id: uuid.UUID, action: MeetingAction, actor: User, address_hash: str | None
) -> None:
    action.chased_at = utcnow()
    audit.record(
        AuditKind.ACTION_CHASED,
        actor_id=actor.id,
        authority_id=action.authority_id,
        case_id=case_id,
        address_hash=address_hash,
        action_id=str(action.id),
    )


def outstanding(authority: Authority) -> list[MeetingAction]:
    """The authority's open actions, soonest to chase first."""
    found = db.session.scalars(
        select(MeetingAction).where(
            MeetingAction.authority_id == authority.id,
            MeetingAction.status == ActionStatus.OPEN,
        )
    ).all()
    return sorted(found, key=lambda action: (chase_on(action), action.created_at))


def attach_minutes(
    case: Case, meeting: Meeting, actor: User, stream: IO[bytes], filename: str | None
) -> None:
    """The minutes as a document, replacing any before; UploadRefusedError says why
    one is refused (the one before is kept then)."""
    stored = uploads.store_checked(KeyOwner.case(case.id, case.authority_id), stream, filename)
    before = (
        db.session.get(StoredFile, meeting.minutes_file_id) if meeting.minutes_file_id else None
    )
    meeting.minutes_file_id = stored.file.id
    meeting.minutes_filename = stored.filename
    meeting.minutes_media_type = stored.media_type
    db.session.flush()
    if before is not None:
        files.delete_file(before)


def open_minutes(meeting: Meeting) -> IO[bytes]:
    if meeting.minutes_file_id is None:
        raise ValueError("the meeting has no minutes document")
    return files.open_verified(db.session.get_one(StoredFile, meeting.minutes_file_id))
