"""The case state machine: every transition, allowed and forbidden; its guards (status,
permission, rationale, a stale page, a missed deadline's reason) and its effects
(timeline, deadlines, audit, the referrer told)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal import workflow
from portal.extensions import db
from portal.models import (
    AuditEvent,
    AuditKind,
    Case,
    CaseEvent,
    CaseStatus,
    Deadline,
    DeadlineKind,
    DelayReason,
    OutboxMessage,
    Role,
    User,
    utcnow,
)
from portal.workdays import Timescale, Unit
from portal.workflow import (
    TRANSITIONS,
    DelayReasonNeededError,
    ForbiddenMoveError,
    MissingAnswerError,
    StaleCaseError,
)
from tests.factories import Account, make_account, make_authority, make_organisation

S = CaseStatus
# The machine as domain.md describes it: (transition, from, to). Changing the machine
# means changing this table, on purpose.
EXPECTED = {
    "submit": ({S.DRAFT}, S.SUBMITTED),
    "start_triage": ({S.SUBMITTED, S.TRANSFERRED}, S.IN_TRIAGE),
    "give_advice": ({S.IN_TRIAGE}, S.ADVICE_GIVEN),
    "no_further_action": ({S.IN_TRIAGE}, S.NO_FURTHER_ACTION),
    "insufficient_information": ({S.IN_TRIAGE}, S.INSUFFICIENT_INFORMATION),
    "transfer": ({S.IN_TRIAGE}, S.TRANSFERRED),
    "accept_referral": ({S.IN_TRIAGE}, S.REFERRAL),
    "hold_strategy_discussion": ({S.REFERRAL}, S.STRATEGY_DISCUSSION),
    "hold_meeting": ({S.REFERRAL, S.STRATEGY_DISCUSSION, S.MEETINGS}, S.MEETINGS),
    "pause": ({S.STRATEGY_DISCUSSION, S.MEETINGS}, S.AWAITING_AGENCY),
    "review_paused": ({S.AWAITING_AGENCY}, S.AWAITING_AGENCY),
    "resume": ({S.AWAITING_AGENCY}, S.MEETINGS),
    "record_outcome": ({S.STRATEGY_DISCUSSION, S.MEETINGS, S.AWAITING_AGENCY}, S.OUTCOME),
    "record_concluding_actions": ({S.OUTCOME}, S.CONCLUDING_ACTIONS),
    "close": (
        {
            S.ADVICE_GIVEN,
            S.NO_FURTHER_ACTION,
            S.INSUFFICIENT_INFORMATION,
            S.CONCLUDING_ACTIONS,
        },
        S.CLOSED,
    ),
    "reopen": (
        {S.CLOSED, S.ADVICE_GIVEN, S.NO_FURTHER_ACTION, S.INSUFFICIENT_INFORMATION},
        S.IN_TRIAGE,
    ),
}


def test_the_machine_is_the_one_described() -> None:
    assert {name: (set(t.sources), t.target) for name, t in TRANSITIONS.items()} == EXPECTED


def test_every_status_has_a_partner_status_and_a_way_on() -> None:
    assert set(workflow.PARTNER_STATUS) == set(CaseStatus)
    reachable = {S.DRAFT} | {target for _, target in EXPECTED.values()}
    assert reachable == set(CaseStatus)
    leaving = set().union(*(sources for sources, _ in EXPECTED.values()))
    assert leaving == set(CaseStatus)  # nothing is a dead end (closed can be reopened)


class Place:
    def __init__(self, app: Flask) -> None:
        self.authority_id = make_authority(app, code="WFL")
        self.organisation_id = make_organisation(app, [self.authority_id])
        self.lado = make_account(app, Role.LADO, authority_id=self.authority_id)
        self.support = make_account(app, Role.BUSINESS_SUPPORT, authority_id=self.authority_id)
        self.referrer = make_account(app, Role.PARTNER_MEMBER, organisation_id=self.organisation_id)
        self.neighbour_id = make_authority(app, code="NBW")


@pytest.fixture
def place(app: Flask) -> Place:
    return Place(app)


def _case(
    app: Flask, place: Place, status: CaseStatus, received: datetime | None = None
) -> uuid.UUID:
    """A sent referral (through workflow.submit), then put in ``status`` for the test."""
    with app.app_context():
        case = Case(
            id=uuid.uuid4(),
            authority_id=place.authority_id,
            organisation_id=place.organisation_id,
            created_by_id=place.referrer.id,
            received_at=received,
        )
        db.session.add(case)
        db.session.flush()
        if status != S.DRAFT:
            assert workflow.submit(case, place.referrer.id, now=received or utcnow())
            case.status = status
        db.session.commit()
        return case.id


def _move(app: Flask, case_id: uuid.UUID, name: str, who: Account, **options: Any) -> CaseEvent:
    with app.app_context():
        case = db.session.get_one(Case, case_id)
        actor = db.session.get_one(User, who.id)
        options.setdefault("version", case.version)
        if name in TRANSITIONS and TRANSITIONS[name].rationale:
            options.setdefault("rationale", "Because the facts meet the threshold")
        options.setdefault("delay_reason", DelayReason.OTHER)
        event = workflow.move(case, name, actor, **options)
        db.session.commit()
        db.session.refresh(event)
        return event


def _status(app: Flask, case_id: uuid.UUID) -> CaseStatus:
    with app.app_context():
        return db.session.get_one(Case, case_id).status


@pytest.mark.parametrize("name", [name for name in EXPECTED if name != "submit"])
def test_each_transition_moves_only_from_its_statuses(app: Flask, place: Place, name: str) -> None:
    sources, target = EXPECTED[name]
    # A transfer names where to; the receiving authority's LADOs make its later moves.
    details = {
        "transfer": {"to_authority_id": str(place.neighbour_id)},
        "record_outcome": {"outcome": "unfounded"},
    }
    to = {"detail": details[name]} if name in details else {}
    for status in CaseStatus:
        case_id = _case(app, place, status)
        if status in sources:
            event = _move(app, case_id, name, place.lado, **to)
            assert _status(app, case_id) == target
            assert (event.from_status, event.to_status) == (status, target)
        else:
            with pytest.raises(ForbiddenMoveError):
                _move(app, case_id, name, place.lado, **to)
            assert _status(app, case_id) == status


def test_submit_is_only_the_referral_forms_move(app: Flask, place: Place) -> None:
    case_id = _case(app, place, S.DRAFT)
    with pytest.raises(ForbiddenMoveError):
        _move(app, case_id, "submit", place.lado)
    with pytest.raises(ForbiddenMoveError):
        _move(app, case_id, "fly_to_the_moon", place.lado)


def test_who_may_make_which_move(app: Flask, place: Place) -> None:
    case_id = _case(app, place, S.SUBMITTED)
    _move(app, case_id, "start_triage", place.support)  # business support may triage...
    with pytest.raises(ForbiddenMoveError, match="cannot"):
        _move(app, case_id, "give_advice", place.support)  # ...but not decide
    with pytest.raises(ForbiddenMoveError):
        _move(app, case_id, "give_advice", place.referrer)
    elsewhere = make_authority(app)
    stranger = make_account(app, Role.LADO, authority_id=elsewhere)
    with pytest.raises(ForbiddenMoveError):
        _move(app, case_id, "give_advice", stranger)
    assert _status(app, case_id) == S.IN_TRIAGE


@pytest.mark.parametrize("rationale", ["", "   \n ", None])
def test_a_decision_without_a_rationale_changes_nothing(
    app: Flask, place: Place, rationale: str | None
) -> None:
    case_id = _case(app, place, S.IN_TRIAGE)
    with pytest.raises(MissingAnswerError) as raised:
        _move(app, case_id, "accept_referral", place.lado, rationale=rationale)
    assert raised.value.field_name == "rationale"
    assert _status(app, case_id) == S.IN_TRIAGE
    with app.app_context():
        assert (
            db.session.scalars(
                select(CaseEvent).where(CaseEvent.transition == "accept_referral")
            ).all()
            == []
        )


def test_two_officers_deciding_at_once_the_second_is_told(app: Flask, place: Place) -> None:
    case_id = _case(app, place, S.IN_TRIAGE)
    with app.app_context():
        seen = db.session.get_one(Case, case_id).version
    second_lado = make_account(app, Role.LADO, authority_id=place.authority_id)
    _move(app, case_id, "give_advice", place.lado, version=seen)
    with pytest.raises(StaleCaseError, match="Someone else has changed this case"):
        _move(app, case_id, "no_further_action", second_lado, version=seen)
    assert _status(app, case_id) == S.ADVICE_GIVEN


def _deadlines(app: Flask, case_id: uuid.UUID) -> dict[DeadlineKind, Deadline]:
    with app.app_context():
        found = db.session.scalars(select(Deadline).where(Deadline.case_id == case_id)).all()
        for deadline in found:
            db.session.expunge(deadline)
        return {deadline.kind: deadline for deadline in found}


def _carries_its_soonest_deadline(app: Flask, case_id: uuid.UUID) -> DeadlineKind | None:
    """The case row's next deadline (what the queue sorts by) is its soonest open one."""
    open_ = sorted(
        (d.due_at, d.kind) for d in _deadlines(app, case_id).values() if d.met_at is None
    )
    with app.app_context():
        case = db.session.get_one(Case, case_id)
        assert (case.next_due_at, case.next_due_kind) == (open_[0] if open_ else (None, None))
        return case.next_due_kind


def test_deadlines_follow_the_events(app: Flask, place: Place) -> None:
    received = datetime(2026, 11, 20, 10, 0, tzinfo=utcnow().tzinfo)  # a Friday
    now = datetime(2026, 11, 20, 15, 0, tzinfo=utcnow().tzinfo)
    case_id = _case(app, place, S.SUBMITTED, received=received)
    response = _deadlines(app, case_id)[DeadlineKind.RESPONSE]
    assert response.due_at == Timescale(1, Unit.WORKING_DAYS).due(received)  # Monday night
    assert response.met_at is None
    assert _carries_its_soonest_deadline(app, case_id) == DeadlineKind.RESPONSE
    _move(app, case_id, "start_triage", place.lado, now=now)
    _move(
        app,
        case_id,
        "accept_referral",
        place.lado,
        now=now,
        also_start=[DeadlineKind.STRATEGY_DISCUSSION],
        detail={"criteria": ["harmed_child"], "harm_category": "physical"},
    )
    deadlines = _deadlines(app, case_id)
    assert deadlines[DeadlineKind.RESPONSE].met_at == now
    assert not deadlines[DeadlineKind.RESPONSE].missed
    assert deadlines[DeadlineKind.STRATEGY_DISCUSSION].due_at == Timescale(
        2, Unit.WORKING_DAYS
    ).due(received)
    assert deadlines[DeadlineKind.ALLEGATIONS_MEETING].due_at == Timescale(
        5, Unit.WORKING_DAYS
    ).due(received)
    assert deadlines[DeadlineKind.PROGRESS_SUMMARY].due_at == Timescale(3, Unit.MONTHS).due(
        received
    )
    assert _carries_its_soonest_deadline(app, case_id) == DeadlineKind.STRATEGY_DISCUSSION
    later = now + timedelta(days=1)
    _move(app, case_id, "hold_strategy_discussion", place.support, now=later)
    _move(app, case_id, "hold_meeting", place.support, now=later)
    deadlines = _deadlines(app, case_id)
    assert deadlines[DeadlineKind.STRATEGY_DISCUSSION].met_at == later
    assert deadlines[DeadlineKind.ALLEGATIONS_MEETING].met_at == later
    assert deadlines[DeadlineKind.REVIEW_MEETING].due_at == Timescale(6, Unit.WEEKS).due(later)
    assert _carries_its_soonest_deadline(app, case_id) == DeadlineKind.REVIEW_MEETING
    _move(app, case_id, "pause", place.lado, now=later, rationale="Police investigating")
    deadlines = _deadlines(app, case_id)
    assert deadlines[DeadlineKind.REVIEW_MEETING].met_at == later
    assert deadlines[DeadlineKind.AGENCY_REVIEW].due_at == Timescale(4, Unit.WEEKS).due(later)
    assert _carries_its_soonest_deadline(app, case_id) == DeadlineKind.AGENCY_REVIEW
    _move(
        app,
        case_id,
        "record_outcome",
        place.lado,
        now=later,
        detail={"outcome": "unsubstantiated"},
    )
    deadlines = _deadlines(app, case_id)
    assert deadlines[DeadlineKind.PROGRESS_SUMMARY].met_at == later  # an outcome ends it
    assert _carries_its_soonest_deadline(app, case_id) is None


def test_a_case_with_every_deadline_met_carries_none(app: Flask, place: Place) -> None:
    case_id = _case(app, place, S.SUBMITTED)
    _move(app, case_id, "start_triage", place.lado)
    _move(app, case_id, "no_further_action", place.lado)
    assert all(d.met_at for d in _deadlines(app, case_id).values())
    assert _carries_its_soonest_deadline(app, case_id) is None


def test_a_missed_deadline_asks_for_a_delay_reason_at_the_next_move(
    app: Flask, place: Place
) -> None:
    received = utcnow() - timedelta(days=10)
    case_id = _case(app, place, S.SUBMITTED, received=received)
    _move(app, case_id, "start_triage", place.lado, delay_reason=DelayReason.COMPLEXITY)
    # start_triage does not meet the response, so it is still open and overdue:
    with pytest.raises(DelayReasonNeededError) as raised:
        _move(app, case_id, "give_advice", place.lado, delay_reason=None)
    assert [d.kind for d in raised.value.deadlines] == [DeadlineKind.RESPONSE]
    assert _status(app, case_id) == S.IN_TRIAGE
    _move(
        app,
        case_id,
        "give_advice",
        place.lado,
        delay_reason=DelayReason.MEETING_AVAILABILITY,
        delay_detail="The DSL was on leave",
    )
    with app.app_context():
        response = db.session.scalars(select(Deadline)).one()
        assert response.missed
        assert response.met_at is not None
        assert response.delay_reason == DelayReason.MEETING_AVAILABILITY
        assert response.delay_detail == "The DSL was on leave"


def test_a_move_leaves_a_timeline_entry_an_audit_event_and_tells_the_referrer(
    app: Flask, place: Place
) -> None:
    case_id = _case(app, place, S.IN_TRIAGE)
    event = _move(
        app,
        case_id,
        "give_advice",
        place.lado,
        rationale="Low-level concern: the school to manage it (rationale-canary)",
        detail={"harm_category": "physical"},
    )
    with app.app_context():
        stored = db.session.get_one(CaseEvent, event.id)
        assert stored.rationale == "Low-level concern: the school to manage it (rationale-canary)"
        assert stored.actor_id == place.lado.id
        assert stored.detail == {"harm_category": "physical"}
        moved = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.CASE_MOVED)
        ).one()
        assert moved.case_id == case_id
        assert moved.detail["transition"] == "give_advice"
        assert "canary" not in str(moved.detail)
        email = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "referral_update")
        ).one()
        assert email.recipient == place.referrer.email
        assert "canary" not in email.body
        assert "advice given" in email.body


@pytest.mark.parametrize("to", [None, "", "nonsense", "same", str(uuid.uuid4())])
def test_a_transfer_names_another_authority_of_the_deployment(
    app: Flask, place: Place, to: str | None
) -> None:
    case_id = _case(app, place, S.IN_TRIAGE)
    to = str(place.authority_id) if to == "same" else to
    with pytest.raises(MissingAnswerError) as raised:
        _move(app, case_id, "transfer", place.lado, detail={"to_authority_id": to})
    assert raised.value.field_name == "to_authority"
    assert _status(app, case_id) == S.IN_TRIAGE


def test_a_move_may_only_record_its_own_details(app: Flask, place: Place) -> None:
    case_id = _case(app, place, S.IN_TRIAGE)
    with pytest.raises(ForbiddenMoveError):
        _move(app, case_id, "give_advice", place.lado, detail={"outcome": "substantiated"})
    with pytest.raises(ForbiddenMoveError):
        _move(app, case_id, "give_advice", place.lado, also_start=[DeadlineKind.REVIEW_MEETING])


def test_allowed_moves_are_the_case_pages_buttons(app: Flask, place: Place) -> None:
    case_id = _case(app, place, S.IN_TRIAGE)
    with app.app_context():
        case = db.session.get_one(Case, case_id)
        lado = db.session.get_one(User, place.lado.id)
        support = db.session.get_one(User, place.support.id)
        assert [t.name for t in workflow.allowed_moves(case, lado)] == [
            "give_advice",
            "no_further_action",
            "insufficient_information",
            "transfer",
            "accept_referral",
        ]
        assert workflow.allowed_moves(case, support) == []


def test_a_move_racing_another_is_refused_by_the_database(app: Flask, place: Place) -> None:
    """The page and the case agreed when read, but another request moved the case in
    between: the conditional UPDATE, not the read, decides."""
    case_id = _case(app, place, S.IN_TRIAGE)
    with app.app_context():
        case = db.session.get_one(Case, case_id)
        actor = db.session.get_one(User, place.lado.id)
        seen = case.version
        with db.engine.begin() as other:  # another worker, its own transaction
            other.execute(
                Case.__table__.update()  # type: ignore[attr-defined]
                .where(Case.__table__.c.id == case_id)  # type: ignore[attr-defined]
                .values(status=S.ADVICE_GIVEN.value, version=seen + 1)
            )
        with pytest.raises(StaleCaseError):
            workflow.move(case, "no_further_action", actor, version=seen, rationale="Why")
    assert _status(app, case_id) == S.ADVICE_GIVEN


def test_a_case_keeps_its_latest_threshold_decision_for_the_reports(
    app: Flask, place: Place
) -> None:
    case_id = _case(app, place, S.SUBMITTED)
    _move(app, case_id, "start_triage", place.lado)
    _move(app, case_id, "give_advice", place.lado)
    with app.app_context():
        assert db.session.get_one(Case, case_id).decision == "give_advice"
    _move(app, case_id, "reopen", place.lado)
    _move(
        app,
        case_id,
        "accept_referral",
        place.lado,
        detail={"criteria": ["harmed_child"], "harm_category": "physical"},
    )
    with app.app_context():
        assert db.session.get_one(Case, case_id).decision == "accept_referral"
    # A transfer: the receiver has decided nothing yet (the sender counts the transfer).
    moved = _case(app, place, S.IN_TRIAGE)
    _move(app, moved, "transfer", place.lado, detail={"to_authority_id": str(place.neighbour_id)})
    with app.app_context():
        assert db.session.get_one(Case, moved).decision is None
