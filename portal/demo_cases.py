"""A realistic volume of fictional cases for the demo authorities: years of closed
contacts and a working set of open ones, as a regional deployment would hold
(``flask demo-data --cases 100000``; the queue benchmark loads it).

Every case is written through the ORM, so it is sealed under its own data key and its
subject is in the blind index exactly as a real one; the moves and deadlines follow the
state machine's own transitions and deadline rules. Names come from small fictional
lists, so some subjects recur, as real ones do. Seeded: the same count gives the same
spread.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal import access
from portal.casework import service as case_service
from portal.extensions import db
from portal.models import (
    Authority,
    Case,
    CaseConclusion,
    CaseEvent,
    CaseStatus,
    Deadline,
    DeadlineKind,
    OnwardReferral,
    Organisation,
    OrganisationAuthority,
    ReferenceCounter,
    Subject,
    User,
    utcnow,
)
from portal.outcomes import months_between
from portal.retention import retained_until
from portal.vocabulary import (
    Answer,
    ConcludingAction,
    HarmCategory,
    OnwardBody,
    Outcome,
    SourceType,
    SubjectSector,
    ThresholdCriterion,
)
from portal.workdays import uk_date
from portal.workflow import DECISIONS, TRANSITIONS, start_deadline

S = CaseStatus
FIRST_NAMES = [
    "Alex",
    "Bailey",
    "Casey",
    "Dana",
    "Ellis",
    "Finley",
    "Gray",
    "Harper",
    "Indy",
    "Jordan",
    "Kai",
    "Logan",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Taylor",
    "Umar",
    "Val",
    "Wren",
    "Yael",
    "Zion",
    "Arden",
    "Blake",
    "Cameron",
    "Devon",
    "Emery",
    "Frankie",
    "Hayden",
    "Jamie",
    "Kendall",
    "Lane",
    "Marley",
    "Nico",
    "Perry",
    "Riley",
    "Skyler",
]
LAST_NAMES = [
    "Ashdown",
    "Birchley",
    "Copperfield",
    "Dunmore",
    "Elmstead",
    "Fairweather",
    "Greenholt",
    "Hartwell",
    "Ivybridge",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Marchbank",
    "Nettlefold",
    "Oakhurst",
    "Pembrook",
    "Quarrendon",
    "Rowanby",
    "Saltmarsh",
    "Thornbury",
    "Underhill",
    "Vinecombe",
    "Westerby",
    "Yarrowfield",
    "Ambleside",
    "Brackenridge",
    "Coldharbour",
    "Dovecote",
    "Eastwick",
    "Foxhollow",
]
JOBS = ("Teacher", "Teaching assistant", "Coach", "Foster carer", "Youth worker", "Nurse")

# How a year's contacts end (closed cases): most are consultations answered with advice,
# about a third become referrals (the conversion rate authorities report).
CLOSED_PATHS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.45, ("start_triage", "give_advice", "close")),
    (0.14, ("start_triage", "no_further_action", "close")),
    (0.06, ("start_triage", "insufficient_information", "close")),
    (
        0.35,
        (
            "start_triage",
            "accept_referral",
            "hold_meeting",
            "record_outcome",
            "record_concluding_actions",
            "close",
        ),
    ),
)
REFERRAL = ("start_triage", "accept_referral")


@dataclass(frozen=True)
class OpenSpread:
    status: CaseStatus
    share: float
    moves: tuple[str, ...]
    age_days: tuple[int, int]  # how long ago it arrived: from, to


# The working set: what an authority's queue holds on a given morning.
OPEN: tuple[OpenSpread, ...] = (
    OpenSpread(S.SUBMITTED, 0.08, (), (0, 3)),
    OpenSpread(S.IN_TRIAGE, 0.12, ("start_triage",), (0, 5)),
    OpenSpread(S.REFERRAL, 0.08, REFERRAL, (1, 8)),
    OpenSpread(S.STRATEGY_DISCUSSION, 0.07, (*REFERRAL, "hold_strategy_discussion"), (2, 12)),
    OpenSpread(S.MEETINGS, 0.35, (*REFERRAL, "hold_meeting"), (7, 150)),
    OpenSpread(S.AWAITING_AGENCY, 0.18, (*REFERRAL, "hold_meeting", "pause"), (30, 540)),
    OpenSpread(S.OUTCOME, 0.07, (*REFERRAL, "hold_meeting", "record_outcome"), (30, 200)),
    OpenSpread(
        S.CONCLUDING_ACTIONS,
        0.05,
        (*REFERRAL, "hold_meeting", "record_outcome", "record_concluding_actions"),
        (30, 200),
    ),
)
OPEN_SHARE = 0.04  # of all the deployment's cases, open now
YEARS_OF_HISTORY = 6
CATEGORIES = (
    (HarmCategory.PHYSICAL, 0.38),
    (HarmCategory.SEXUAL, 0.18),
    (HarmCategory.EMOTIONAL, 0.1),
    (HarmCategory.NEGLECT, 0.06),
    (HarmCategory.TRANSFERABLE_RISK, 0.28),
)
SECTOR_WEIGHTS = {
    SubjectSector.TEACHING: 20,
    SubjectSector.TEACHING_SUPPORT: 14,
    SubjectSector.EDUCATION_NON_TEACHING: 6,
    SubjectSector.EARLY_YEARS: 10,
    SubjectSector.RESIDENTIAL_PRIVATE: 8,
    SubjectSector.FOSTER_CARER_LOCAL_AUTHORITY: 5,
    SubjectSector.FOSTER_CARER_AGENCY: 5,
    SubjectSector.HEALTH: 4,
    SubjectSector.SPORT: 5,
    SubjectSector.FAITH: 3,
    SubjectSector.TRANSPORT: 3,
    SubjectSector.POLICE: 2,
    SubjectSector.VOLUNTEER: 4,
}


@dataclass
class _Authority:
    authority: Authority
    weight: float
    officers: list[User]
    referrers: list[tuple[Organisation, User]]


def load(count: int, *, seed: int = 2026, now: datetime | None = None, batch: int = 500) -> int:
    """Add ``count`` fictional cases over the authorities there are (the first the
    largest), committing every ``batch``. Returns how many were added."""
    now = now or utcnow()
    rng = random.Random(seed)  # noqa: S311 (fictional data, the same every time)
    places = _places()
    if not places:
        raise RuntimeError("load the demo authorities and accounts first (flask demo-data)")
    counters = _counters()
    added = 0
    while added < count:
        for _ in range(min(batch, count - added)):
            place = rng.choices(places, weights=[p.weight for p in places])[0]
            _add_case(rng, place, counters, now)
            added += 1
        db.session.commit()
        db.session.expunge_all()  # a batch at a time, not 100,000 objects in memory
        places = _places()
    for (authority_id, year), last in counters.items():
        counter = db.session.get(ReferenceCounter, (authority_id, year))
        if counter is None:
            db.session.add(ReferenceCounter(authority_id=authority_id, year=year, last=last))
        else:
            counter.last = max(counter.last, last)
    db.session.commit()
    return added


def _places() -> list[_Authority]:
    found = []
    authorities = db.session.scalars(select(Authority).order_by(Authority.created_at)).all()
    for position, authority in enumerate(authorities):
        officers = case_service.officers(authority)
        referrers = []
        linked = select(OrganisationAuthority.organisation_id).where(
            OrganisationAuthority.authority_id == authority.id
        )
        for organisation in db.session.scalars(
            select(Organisation).where(Organisation.id.in_(linked))
        ):
            members = db.session.scalars(access.members_of(organisation)).all()
            referrers += [(organisation, member) for member in members[:1]]
        if officers and referrers:
            found.append(_Authority(authority, 1.5 if position == 0 else 1.0, officers, referrers))
    return found


def _counters() -> dict[tuple[uuid.UUID, int], int]:
    counters: dict[tuple[uuid.UUID, int], int] = defaultdict(int)
    for row in db.session.scalars(select(ReferenceCounter)):
        counters[(row.authority_id, row.year)] = row.last
    return counters


def _weighted(rng: random.Random, pairs: Sequence[tuple[object, float]]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _add_case(
    rng: random.Random,
    place: _Authority,
    counters: dict[tuple[uuid.UUID, int], int],
    now: datetime,
) -> None:
    if rng.random() < OPEN_SHARE:
        spread = rng.choices(OPEN, weights=[o.share for o in OPEN])[0]
        moves, status = spread.moves, spread.status
        received = now - timedelta(
            days=rng.randint(*spread.age_days), minutes=rng.randint(0, 24 * 60)
        )
    else:
        moves = _weighted(rng, [(path, share) for share, path in CLOSED_PATHS])  # type: ignore[assignment]
        status = S.CLOSED
        received = now - timedelta(days=rng.randint(30, 365 * YEARS_OF_HISTORY))
    organisation, referrer = rng.choice(place.referrers)
    authority = place.authority
    year = uk_date(received).year
    counters[(authority.id, year)] += 1
    category = _weighted(rng, CATEGORIES)
    case = Case(
        id=uuid.uuid4(),
        authority_id=authority.id,
        organisation_id=organisation.id,
        status=status,
        reference=f"{authority.code}-{year}-{counters[(authority.id, year)]:05d}",
        source_type=rng.choice(list(SourceType)),
        created_by_id=referrer.id,
        created_at=received,
        updated_at=received,
        submitted_by_id=referrer.id,
        submitted_at=received,
        received_at=received,
        version=len(moves) + 1,
        assigned_to_id=rng.choice(place.officers).id if moves else None,
        completed_sections=[],
        incident_on=uk_date(received) - timedelta(days=rng.randint(0, 10)),
        became_aware_on=uk_date(received),
        harm_category=category,
        criteria=[rng.choice(list(ThresholdCriterion)).value],
        children_involved=Answer.YES,
    )
    case.referrer_name = f"{rng.choice(FIRST_NAMES)} Referrer (demo)"
    case.referrer_role = "Designated safeguarding lead"
    case.location = f"{organisation.name}"
    case.allegation = f"A fictional allegation of {category} harm, case {case.reference} (demo)."
    db.session.add(case)
    subject = Subject(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=authority.id,
        sector=rng.choices(list(SECTOR_WEIGHTS), weights=list(SECTOR_WEIGHTS.values()))[0],
        has_employer=True,
        works_with_children=Answer.YES,
    )
    subject.full_name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    subject.date_of_birth = date(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28))
    subject.job_title = rng.choice(JOBS)
    db.session.add(subject)
    add_history(rng, case, referrer, place.officers, moves, received, now)
    case.decision = next((m for m in reversed(moves) if m in DECISIONS), None)
    if "record_outcome" in moves:
        _conclude(rng, case, subject.date_of_birth, moves, received, now)


# Roughly as annual reports find them (Bromley 2022/23: 55, 19, 47, 1, 0).
OUTCOME_WEIGHTS = {
    Outcome.SUBSTANTIATED: 55,
    Outcome.UNSUBSTANTIATED: 19,
    Outcome.UNFOUNDED: 47,
    Outcome.FALSE: 1,
    Outcome.MALICIOUS: 0.5,
}


def _conclude(
    rng: random.Random,
    case: Case,
    born: date | None,
    moves: Sequence[str],
    received: datetime,
    now: datetime,
) -> None:
    """An outcome (and its retention date), then any concluding actions and referrals on,
    without opening the subject's sealed date of birth again."""
    outcome = rng.choices(list(OUTCOME_WEIGHTS), weights=list(OUTCOME_WEIGHTS.values()))[0]
    decided = uk_date(received + (now - received) * rng.uniform(0.6, 0.9))
    case.outcome = outcome
    case.outcome_on = decided
    case.outcome_months = months_between(uk_date(received), decided)
    case.retained_until = retained_until(case.incident_on or decided, born)
    case.remove_from_personnel_records = outcome == Outcome.MALICIOUS
    if "record_concluding_actions" not in moves:
        return
    kind = rng.choice(list(ConcludingAction))
    db.session.add(
        CaseConclusion(
            id=uuid.uuid4(), case_id=case.id, authority_id=case.authority_id, kind=kind, on=decided
        )
    )
    if outcome == Outcome.SUBSTANTIATED and rng.random() < 0.3:
        referral = OnwardReferral(
            id=uuid.uuid4(),
            case_id=case.id,
            authority_id=case.authority_id,
            body=rng.choice([OnwardBody.DBS, OnwardBody.OFSTED, OnwardBody.TRA]),
            on=decided,
        )
        db.session.add(referral)


def add_history(
    rng: random.Random,
    case: Case,
    referrer: User,
    officers: list[User],
    moves: Sequence[str],
    received: datetime,
    now: datetime,
) -> None:
    """The submission, then each move at a plausible time, with the deadlines each
    starts and meets, as portal.workflow would have recorded them."""
    # Triage within the day; the later moves at times spread over the rest.
    triaged = received + min(timedelta(hours=rng.uniform(0.5, 20)), (now - received) * 0.3)
    later = sorted(rng.uniform(0, 1) for _ in moves[1:])
    times = [triaged, *(triaged + (now - triaged) * fraction for fraction in later)]
    events = [("submit", received, referrer.id)]
    events += [
        (name, when, rng.choice(officers).id)
        for name, when in zip(moves, times[: len(moves)], strict=True)
    ]
    open_deadlines: dict[DeadlineKind, Deadline] = {}
    status = S.DRAFT
    for name, when, actor in events:
        transition = TRANSITIONS[name]
        for kind in transition.meets:
            if kind in open_deadlines:
                open_deadlines.pop(kind).met_at = when
        for kind in transition.starts:
            open_deadlines[kind] = start_deadline(case, kind, when)
        event = CaseEvent(
            id=uuid.uuid4(),
            case_id=case.id,
            authority_id=case.authority_id,
            transition=name,
            from_status=status,
            to_status=transition.target,
            occurred_at=when,
            actor_id=actor,
            detail={},
        )
        if transition.rationale:
            event.rationale = "Fictional reasons recorded for the demo."
        db.session.add(event)
        status = transition.target
