"""How a case moves from one status to the next: the only module that changes a case's
status. Each move is a named transition with its guard (the statuses it starts from, the
permission it needs, whether a rationale is required, a delay reason where a deadline
was missed) and its effects (a timeline entry, an audit event, deadlines started and
met, a notification). The move itself is a conditional UPDATE on the case's status and
version, so two people acting on the same case at once cannot both succeed: the second
is told the case has changed.

    draft -submit-> submitted -start_triage-> in_triage
    in_triage -> advice_given | no_further_action | insufficient_information
               | transferred | referral                      (threshold decisions)
    referral -> strategy_discussion -> meetings <-> awaiting_agency (paused)
    ... -> outcome -> concluding_actions -> closed -reopen-> in_triage
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update

from portal import audit, notify, outcomes, transfers
from portal.access import Permission, permissions_in
from portal.extensions import db
from portal.models import (
    AuditKind,
    Authority,
    Case,
    CaseEvent,
    CaseStatus,
    Deadline,
    DeadlineKind,
    DelayReason,
    ReferenceCounter,
    User,
    utcnow,
)
from portal.models.base import insert_unless_exists
from portal.vocabulary import HarmCategory, LabelledEnum, Outcome, labels
from portal.workdays import Timescale, Unit, uk_date

COUNTERS = cast(Table, ReferenceCounter.__table__)


class PartnerStatus(LabelledEnum):
    """What a partner organisation is told of where its referral is."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    BEING_CONSIDERED = "being_considered"
    ADVICE_GIVEN = "advice_given"
    REFERRAL_ACCEPTED = "referral_accepted"
    MEETING_ARRANGED = "meeting_arranged"
    CLOSED = "closed"


labels(
    PartnerStatus,
    {
        "draft": "Draft",
        "submitted": "Submitted",
        "being_considered": "Being considered",
        "advice_given": "Advice given",
        "referral_accepted": "Referral accepted",
        "meeting_arranged": "Meeting arranged",
        "closed": "Closed",
    },
)

# What a partner is told: nothing of the LADO's reasons, police involvement or pauses.
PARTNER_STATUS = {
    CaseStatus.DRAFT: PartnerStatus.DRAFT,
    CaseStatus.SUBMITTED: PartnerStatus.SUBMITTED,
    CaseStatus.IN_TRIAGE: PartnerStatus.BEING_CONSIDERED,
    CaseStatus.INSUFFICIENT_INFORMATION: PartnerStatus.BEING_CONSIDERED,
    CaseStatus.TRANSFERRED: PartnerStatus.BEING_CONSIDERED,
    CaseStatus.ADVICE_GIVEN: PartnerStatus.ADVICE_GIVEN,
    CaseStatus.NO_FURTHER_ACTION: PartnerStatus.CLOSED,
    CaseStatus.REFERRAL: PartnerStatus.REFERRAL_ACCEPTED,
    CaseStatus.STRATEGY_DISCUSSION: PartnerStatus.REFERRAL_ACCEPTED,
    CaseStatus.MEETINGS: PartnerStatus.MEETING_ARRANGED,
    CaseStatus.AWAITING_AGENCY: PartnerStatus.MEETING_ARRANGED,
    CaseStatus.OUTCOME: PartnerStatus.MEETING_ARRANGED,
    CaseStatus.CONCLUDING_ACTIONS: PartnerStatus.MEETING_ARRANGED,
    CaseStatus.CLOSED: PartnerStatus.CLOSED,
}


def partner_status(case: Case) -> PartnerStatus:
    return PARTNER_STATUS[case.status]


def submit(case: Case, submitted_by: uuid.UUID, *, now: datetime | None = None) -> bool:
    """Draft to submitted, exactly once: it gets its reference and its received time (the
    submission, unless the LADO recorded when a contact came in). False if it had
    already been submitted (a double click, a second tab): nothing changes then."""
    now = now or utcnow()
    db.session.flush()
    moved = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == CaseStatus.DRAFT)
        .values(status=CaseStatus.SUBMITTED, submitted_at=now, submitted_by_id=submitted_by)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(case)
        return False
    received = case.received_at or now
    authority = db.session.get_one(Authority, case.authority_id)
    db.session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(
            received_at=received,
            reference=next_reference(authority, uk_date(received).year),
            version=Case.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(case)
    _record(case, SUBMIT, submitted_by, now=now, rationale=None, detail={})
    _start_deadlines(case, SUBMIT.starts, now)
    return True


def next_reference(authority: Authority, year: int) -> str:
    """The next reference in the authority's series for the year: BRK-2026-00042. The
    counter row is locked by the increment until the transaction ends, so two
    submissions never share a number, and a rolled-back one gives its number back."""
    connection = db.session.connection()
    connection.execute(
        insert_unless_exists(connection, COUNTERS).values(
            authority_id=authority.id, year=year, last=0
        )
    )
    last = connection.execute(
        update(COUNTERS)
        .where(COUNTERS.c.authority_id == authority.id, COUNTERS.c.year == year)
        .values(last=COUNTERS.c.last + 1)
        .returning(COUNTERS.c.last)
    ).scalar_one()
    return f"{authority.code}-{year}-{last:05d}"


# The machine


class WorkflowError(Exception):
    """A move that cannot be made; the message says why, in words for the page."""


class ForbiddenMoveError(WorkflowError):
    pass


class StaleCaseError(WorkflowError):
    """Someone else moved the case since the page was shown."""


STALE = (
    "Someone else has changed this case since you opened the page. Your answers are "
    "below: check the case and try again"
)


class MissingAnswerError(WorkflowError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name


class DelayReasonNeededError(WorkflowError):
    def __init__(self, deadlines: list[Deadline]) -> None:
        super().__init__("Select why the time-scale was missed")
        self.deadlines = deadlines


@dataclass(frozen=True)
class DeadlineRule:
    timescale: Timescale
    from_receipt: bool  # from when the LADO received the contact; else from the move
    label: str
    # Minutes: the authority sets its own number of working days (10 or 15).
    authority_sets_days: bool = False


DEADLINE_RULES: dict[DeadlineKind, DeadlineRule] = {
    DeadlineKind.RESPONSE: DeadlineRule(
        Timescale(1, Unit.WORKING_DAYS), True, "Respond to the referrer"
    ),
    DeadlineKind.STRATEGY_DISCUSSION: DeadlineRule(
        Timescale(2, Unit.WORKING_DAYS), True, "Strategy discussion"
    ),
    DeadlineKind.ALLEGATIONS_MEETING: DeadlineRule(
        Timescale(5, Unit.WORKING_DAYS), True, "Allegations meeting"
    ),
    DeadlineKind.REVIEW_MEETING: DeadlineRule(Timescale(6, Unit.WEEKS), False, "Review meeting"),
    DeadlineKind.AGENCY_REVIEW: DeadlineRule(
        Timescale(4, Unit.WEEKS), False, "Review of the paused case"
    ),
    # Started and met by a meeting (portal.meetings), not by a move of the case.
    DeadlineKind.ACTIONS: DeadlineRule(
        Timescale(24, Unit.HOURS), False, "Send the meeting's actions"
    ),
    DeadlineKind.MINUTES: DeadlineRule(
        Timescale(10, Unit.WORKING_DAYS), False, "Send the meeting's minutes", True
    ),
    # After each meeting, a subject with no employer (or with an account of their own to
    # read updates) hears within 48 hours: met by publishing an update to the subject.
    DeadlineKind.SUBJECT_UPDATE: DeadlineRule(
        Timescale(48, Unit.HOURS), False, "Update the subject"
    ),
    # 3 months from receipt, then 3 months from each summary (a note marked as one).
    DeadlineKind.PROGRESS_SUMMARY: DeadlineRule(
        Timescale(3, Unit.MONTHS), True, "Progress summary"
    ),
}


@dataclass(frozen=True)
class Transition:
    name: str
    label: str  # what the button says
    sources: frozenset[CaseStatus]
    target: CaseStatus
    permission: Permission | None  # None: the referral form's own access rule
    rationale: bool = False  # a written reason is required
    starts: tuple[DeadlineKind, ...] = ()
    may_start: tuple[DeadlineKind, ...] = ()  # started when the person says so
    meets: tuple[DeadlineKind, ...] = ()
    tell_referrer: bool = False
    detail_keys: frozenset[str] = field(default_factory=frozenset)


def _from(*statuses: CaseStatus) -> frozenset[CaseStatus]:
    return frozenset(statuses)


S = CaseStatus
# The threshold decisions: the case keeps its latest (Case.decision) for the reports.
DECISIONS = frozenset(
    {"give_advice", "accept_referral", "no_further_action", "insufficient_information", "transfer"}
)
DECIDE = Permission.AUTHORITY_CASES_DECIDE
WORK = Permission.AUTHORITY_CASES_WORK
THRESHOLD = {"criteria", "harm_category"}
SUBMIT = Transition(
    "submit", "Send", _from(S.DRAFT), S.SUBMITTED, None, starts=(DeadlineKind.RESPONSE,)
)


def _decision(
    name: str,
    label: str,
    target: CaseStatus,
    *,
    detail_keys: frozenset[str] = frozenset(THRESHOLD),
    starts: tuple[DeadlineKind, ...] = (),
    may_start: tuple[DeadlineKind, ...] = (),
) -> Transition:
    """A threshold decision: from triage, by the LADO, with a rationale; it is the LADO's
    response to the referrer, who is told."""
    return Transition(
        name,
        label,
        _from(S.IN_TRIAGE),
        target,
        DECIDE,
        rationale=True,
        starts=starts,
        may_start=may_start,
        meets=(DeadlineKind.RESPONSE,),
        tell_referrer=True,
        detail_keys=detail_keys,
    )


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        SUBMIT,
        Transition(
            "start_triage", "Start triage", _from(S.SUBMITTED, S.TRANSFERRED), S.IN_TRIAGE, WORK
        ),
        _decision("give_advice", "Give advice and guidance", S.ADVICE_GIVEN),
        _decision("no_further_action", "No further action", S.NO_FURTHER_ACTION),
        _decision("insufficient_information", "Not enough information", S.INSUFFICIENT_INFORMATION),
        # The case goes to the other authority's queue (portal.transfers), which
        # answers its referrer afresh: a new response deadline there.
        _decision(
            "transfer",
            "Transfer to another authority",
            S.TRANSFERRED,
            detail_keys=frozenset({"to_authority_id"}),
            starts=(DeadlineKind.RESPONSE,),
        ),
        _decision(
            "accept_referral",
            "Accept as a referral",
            S.REFERRAL,
            starts=(DeadlineKind.ALLEGATIONS_MEETING, DeadlineKind.PROGRESS_SUMMARY),
            may_start=(DeadlineKind.STRATEGY_DISCUSSION,),
        ),
        Transition(
            "hold_strategy_discussion",
            "Record the strategy discussion",
            _from(S.REFERRAL),
            S.STRATEGY_DISCUSSION,
            WORK,
            meets=(DeadlineKind.STRATEGY_DISCUSSION,),
        ),
        Transition(
            "hold_meeting",
            "Record a meeting held",
            _from(S.REFERRAL, S.STRATEGY_DISCUSSION, S.MEETINGS),
            S.MEETINGS,
            WORK,
            starts=(DeadlineKind.REVIEW_MEETING,),
            meets=(
                DeadlineKind.STRATEGY_DISCUSSION,
                DeadlineKind.ALLEGATIONS_MEETING,
                DeadlineKind.REVIEW_MEETING,
            ),
        ),
        Transition(
            "pause",
            "Pause while another agency acts",
            _from(S.STRATEGY_DISCUSSION, S.MEETINGS),
            S.AWAITING_AGENCY,
            WORK,
            rationale=True,
            starts=(DeadlineKind.AGENCY_REVIEW,),
            meets=(DeadlineKind.REVIEW_MEETING,),
        ),
        Transition(
            "review_paused",
            "Record a review of the paused case",
            _from(S.AWAITING_AGENCY),
            S.AWAITING_AGENCY,
            WORK,
            rationale=True,
            starts=(DeadlineKind.AGENCY_REVIEW,),
            meets=(DeadlineKind.AGENCY_REVIEW,),
        ),
        Transition(
            "resume",
            "Resume",
            _from(S.AWAITING_AGENCY),
            S.MEETINGS,
            WORK,
            starts=(DeadlineKind.REVIEW_MEETING,),
            meets=(DeadlineKind.AGENCY_REVIEW,),
        ),
        Transition(
            "record_outcome",
            "Record the outcome",
            _from(S.STRATEGY_DISCUSSION, S.MEETINGS, S.AWAITING_AGENCY),
            S.OUTCOME,
            DECIDE,
            rationale=True,
            meets=(
                DeadlineKind.REVIEW_MEETING,
                DeadlineKind.AGENCY_REVIEW,
                DeadlineKind.PROGRESS_SUMMARY,
            ),
            detail_keys=frozenset({"outcome"}),
        ),
        Transition(
            "record_concluding_actions",
            "Record the concluding actions",
            _from(S.OUTCOME),
            S.CONCLUDING_ACTIONS,
            DECIDE,
            detail_keys=frozenset({"actions"}),
        ),
        Transition(
            "close",
            "Close the case",
            _from(
                S.ADVICE_GIVEN,
                S.NO_FURTHER_ACTION,
                S.INSUFFICIENT_INFORMATION,
                S.CONCLUDING_ACTIONS,
            ),
            S.CLOSED,
            DECIDE,
            tell_referrer=True,
        ),
        Transition(
            "reopen",
            "Reopen",
            _from(S.CLOSED, S.ADVICE_GIVEN, S.NO_FURTHER_ACTION, S.INSUFFICIENT_INFORMATION),
            S.IN_TRIAGE,
            DECIDE,
            rationale=True,
        ),
    )
}


def allowed_moves(case: Case, user: User) -> list[Transition]:
    """The moves the case's status and the user's permissions allow: the case page's
    buttons."""
    held = permissions_in(user, authority_id=case.authority_id)
    return [
        transition
        for transition in TRANSITIONS.values()
        if case.status in transition.sources
        and transition.permission is not None
        and transition.permission in held
    ]


def overdue_deadlines(case: Case, now: datetime) -> list[Deadline]:
    return [d for d in open_deadlines(case) if d.due_at < now]


def open_deadlines(case: Case) -> list[Deadline]:
    return list(
        db.session.scalars(
            select(Deadline)
            .where(Deadline.case_id == case.id, Deadline.met_at.is_(None))
            .order_by(Deadline.due_at)
        )
    )


def move(
    case: Case,
    name: str,
    actor: User,
    *,
    version: int,
    rationale: str | None = None,
    delay_reason: DelayReason | None = None,
    delay_detail: str | None = None,
    also_start: Iterable[DeadlineKind] = (),
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
    address_hash: str | None = None,
) -> CaseEvent:
    """Make a move, or raise WorkflowError saying why not (nothing is changed then).
    ``version`` is the case's version when the person's page was drawn. The caller
    commits."""
    now = now or utcnow()
    transition = TRANSITIONS.get(name)
    if transition is None or transition.permission is None:
        raise ForbiddenMoveError(f"There is no move called {name!r}")
    if case.version != version:
        raise StaleCaseError(STALE)
    if case.status not in transition.sources:
        raise ForbiddenMoveError(
            f"A case that is {case.status.label.lower()} cannot be moved by ‘{transition.label}’"
        )
    if transition.permission not in permissions_in(actor, authority_id=case.authority_id):
        raise ForbiddenMoveError(f"You cannot ‘{transition.label}’ in this authority")
    rationale = (rationale or "").strip() or None
    if transition.rationale and rationale is None:
        raise MissingAnswerError("rationale", "Enter the reasons for this decision")
    extra = set(also_start) - set(transition.may_start)
    if extra:
        raise ForbiddenMoveError(f"‘{transition.label}’ cannot start {sorted(extra)}")
    detail = detail or {}
    if "outcome" in transition.detail_keys and detail.get("outcome") not in set(Outcome):
        raise MissingAnswerError("outcome", "Select the outcome")
    unknown = set(detail) - transition.detail_keys
    if unknown:
        raise ForbiddenMoveError(f"‘{transition.label}’ does not record {sorted(unknown)}")
    receiver = _receiving_authority(case, detail) if name == "transfer" else None
    still_open = open_deadlines(case)
    late = [deadline for deadline in still_open if deadline.due_at < now]
    if late and delay_reason is None:
        raise DelayReasonNeededError(late)
    db.session.flush()
    moved = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == case.status, Case.version == version)
        .values(status=transition.target, version=Case.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise StaleCaseError(STALE)
    from_status = case.status
    db.session.refresh(case)
    for deadline in late:
        deadline.delay_reason = delay_reason
        deadline.delay_detail = (delay_detail or "").strip() or None
    for deadline in still_open:
        if deadline.kind in transition.meets:
            deadline.met_at = now
    if detail.get("harm_category"):  # the LADO's category replaces the referrer's
        case.harm_category = HarmCategory(detail["harm_category"])
    if detail.get("outcome"):
        outcomes.record(case, Outcome(detail["outcome"]), uk_date(now))
    if transition.name in DECISIONS:
        case.decision = transition.name
    event = _record(
        case,
        transition,
        actor.id,
        now=now,
        rationale=rationale,
        detail=detail,
        from_status=from_status,
    )
    audit.about_case(
        AuditKind.CASE_MOVED,
        case,
        actor.id,
        address_hash,
        transition=transition.name,
        from_status=from_status.value,
        to_status=transition.target.value,
    )
    if receiver is not None:  # after the sender's own record of the move
        transfers.hand_over(case, receiver, actor.id, now=now, address_hash=address_hash)
    _start_deadlines(case, (*transition.starts, *also_start), now)
    if transition.tell_referrer and case.submitted_by_id and not case.logged:
        referrer = db.session.get_one(User, case.submitted_by_id)
        notify.queue_email(
            "referral_update",
            referrer.email,
            related_user_id=referrer.id,
            full_name=referrer.full_name,
            reference=case.reference,
            status=partner_status(case).label.lower(),
            sign_in_url=notify.absolute_url("auth.sign_in"),
        )
    return event


def _receiving_authority(case: Case, detail: dict[str, Any]) -> Authority:
    try:
        receiver = db.session.get(Authority, uuid.UUID(str(detail.get("to_authority_id"))))
    except ValueError:
        receiver = None
    if receiver is None or receiver.id == case.authority_id:
        raise MissingAnswerError("to_authority", "Select the authority to transfer the case to")
    return receiver


def _start_deadlines(case: Case, kinds: Iterable[DeadlineKind], now: datetime) -> None:
    for kind in kinds:
        start_deadline(case, kind, now)


def start_deadline(
    case: Case, kind: DeadlineKind, now: datetime, *, from_now: bool = False
) -> Deadline:
    """A time-scale starts: from the contact's receipt (for those that run from it,
    unless ``from_now``: a repeating one), or from now."""
    rule = DEADLINE_RULES[kind]
    starts_at = (case.received_at or now) if rule.from_receipt and not from_now else now
    timescale = rule.timescale
    if rule.authority_sets_days:
        authority = db.session.get_one(Authority, case.authority_id)
        timescale = Timescale(authority.minutes_working_days, Unit.WORKING_DAYS)
    deadline = Deadline(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=case.authority_id,
        kind=kind,
        starts_at=starts_at,
        due_at=timescale.due(starts_at),
    )
    db.session.add(deadline)
    return deadline


def meet_deadline(case: Case, kind: DeadlineKind, now: datetime) -> Deadline | None:
    """The case's oldest open deadline of that kind is met (a meeting's actions sent)."""
    for deadline in open_deadlines(case):  # soonest first
        if deadline.kind == kind:
            deadline.met_at = now
            return deadline
    return None


def _record(
    case: Case,
    transition: Transition,
    actor_id: uuid.UUID,
    *,
    now: datetime,
    rationale: str | None,
    detail: dict[str, Any],
    from_status: CaseStatus | None = None,
) -> CaseEvent:
    event = CaseEvent(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=case.authority_id,
        transition=transition.name,
        from_status=from_status or next(iter(transition.sources)),
        to_status=transition.target,
        occurred_at=now,
        actor_id=actor_id,
        detail=detail,
    )
    event.rationale = rationale
    db.session.add(event)
    return event
