"""Fictional demo referrals: a sent referral, one already at its allegations meeting
(with the agencies' checklists asked for) and a half-finished draft from Oakwood
Primary School, and a phone call the Brookfield LADO logged. They go through the real
forms (so they pass the same checks as typed answers) and the real service (so they are
sealed, numbered and audited as any other)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete
from werkzeug.datastructures import MultiDict

from portal import demo_cases, redaction, workflow
from portal.checklists import agency_for
from portal.extensions import db
from portal.meetings import service as meetings
from portal.models import (
    Authority,
    Case,
    CaseEvent,
    CaseStatus,
    Deadline,
    MeetingKind,
    Organisation,
    SubjectLink,
    User,
    utcnow,
)
from portal.redaction import Audience
from portal.referrals import forms, service
from portal.referrals.sections import (
    ABOUT_YOU,
    ACTIONS,
    CONTACT,
    CONTACT_SECTIONS,
    INCIDENT,
    PARTNER_SECTIONS,
    SUBJECT,
    Section,
)
from portal.retention import retained_until
from portal.updates import service as updates
from portal.vocabulary import Answer, Outcome
from portal.workdays import UK, add_working_days, uk_date


def _today() -> list[str]:
    day = uk_date(utcnow())
    return [str(day.day), str(day.month), str(day.year)]


SUBJECT_ANSWERS = {
    "full_name": "Sam Example (demo)",
    "other_names": "",
    "date_of_birth": ["12", "5", "1988"],
    "address": "1 Demo Street, Brookfield, BF1 1AA",
    "job_title": "Teaching assistant",
    "has_employer": "yes",
    "employer": "Oakwood Primary School (demo)",
    "sector": "teaching_support",
    "works_with_children": "yes",
    "regulated": "no",
}
CHILD_ANSWERS = {
    "name": "Child A (demo)",
    "date_of_birth": ["3", "9", "2017"],
    "gender": "boy",
    "setting": "Oakwood Primary School (demo), Year 4",
    "special_needs": "no",
    "known_to_social_care": "not_known",
    "words": "He pulled me by my arm and it hurt. (demo)",
}
INCIDENT_ANSWERS = {
    "location": "The school playground (demo)",
    "allegation": "Child A says the teaching assistant pulled him roughly by the arm at "
    "lunchtime, leaving a red mark. (demo)",
    "alleged_by": "Child A, to his class teacher (demo)",
    "came_to_light": "Child A told his class teacher after lunch, who told the DSL. (demo)",
    "harm_category": "physical",
    "criteria": ["harmed_child"],
}
ACTIONS_ANSWERS = {
    "police_informed": "no",
    "csc_informed": "no",
    "parents_informed": "yes",
    "employment_action": "nothing_yet",
    "other_agencies": "",
}


def _form(form_class: type[Any], answers: dict[str, Any], **options: Any) -> Any:
    """The form as if posted with these answers, checked by its own rules."""
    pairs = [
        (name, value)
        for name, values in answers.items()
        for value in (values if isinstance(values, list) else [values])
    ]
    form = form_class(formdata=MultiDict(pairs), meta={"csrf": False}, **options)
    if not form.validate():
        raise ValueError(f"demo answers for {form_class.__name__} fail: {form.errors}")
    return form


def _save(user: User, case: Any, section: Section, answers: dict[str, Any], **options: Any) -> None:
    if section.form is None:
        raise TypeError(f"{section.key} is not a page of questions")
    service.save_section(user, case, section, _form(section.form, answers, **options), None)


def add_child(user: User, case: Any) -> None:
    service.set_children_involved(user, case, Answer.YES, None)
    service.save_child(user, case, None, _form(forms.ChildForm, CHILD_ANSWERS), None)


def _sent(
    dsl: User,
    oakwood: Organisation,
    brookfield: Authority,
    incident: dict[str, Any],
    **subject: Any,
) -> Case:
    case = service.start_referral(dsl, oakwood, brookfield, None)
    _save(
        dsl,
        case,
        ABOUT_YOU,
        {
            "name": dsl.full_name,
            "role": "Designated safeguarding lead",
            "phone": "01632 960 001",
            "email": dsl.email,
        },
    )
    _save(dsl, case, SUBJECT, {**SUBJECT_ANSWERS, **subject})
    add_child(dsl, case)
    _save(dsl, case, INCIDENT, incident)
    _save(dsl, case, ACTIONS, ACTIONS_ANSWERS)
    service.submit(dsl, case, PARTNER_SECTIONS, None)
    return case


def _to_a_meeting(
    users: dict[str, User], organisations: dict[str, Organisation], case: Case
) -> None:
    """Accepted as a referral, its allegations meeting arranged in three working days,
    and the three agencies asked: the police have answered, the school has a draft."""
    lado = users["lado@brookfield.example"]
    workflow.move(case, "start_triage", lado, version=case.version)
    workflow.move(
        case,
        "accept_referral",
        lado,
        version=case.version,
        rationale="A child was harmed: the harm threshold is met. (demo)",
        detail={"criteria": ["harmed_child"], "harm_category": "emotional"},
    )
    starts = datetime.combine(
        add_working_days(uk_date(utcnow()), 3), time(10, 0), tzinfo=UK
    ).astimezone(UTC)
    oakwood, police, csc = (organisations[key] for key in ("oakwood", "police", "csc"))
    meeting = meetings.arrange(
        case,
        lado,
        kind=MeetingKind.ALLEGATIONS,
        starts_at=starts,
        minutes_long=90,
        place="Meeting room 2, Brookfield Civic Centre, or online: https://meet.example/abc (demo)",
        chair=lado,
        organisations=[oakwood, police, csc],
        staff=[users["support@brookfield.example"]],
        date_reason=None,
        address_hash=None,
    )
    db.session.flush()
    asked = {
        key: meetings.request_information(
            case,
            meeting,
            organisation,
            agency_for(organisation.type),
            meetings.default_due(meeting),
            lado,
            None,
        )
        for key, organisation in (("oakwood", oakwood), ("police", police), ("csc", csc))
    }
    meetings.save_answers(
        asked["police"],
        users["officer@police.example"],
        {
            "pnc": "Not known to police. (demo)",
            "crime_number": "None: no crime recorded. (demo)",
            "risk_analysis": "No risk identified outside work. (demo)",
        },
        send=True,
        address_hash=None,
    )
    _an_update(lado, case)
    meetings.save_answers(
        asked["oakwood"],
        users["dsl@oakwood.example"],
        {"conduct": "No earlier concerns. (demo)"},
        send=False,
        address_hash=None,
    )


def _an_update(lado: User, case: Case) -> None:
    """An update published as the portal suggested: the school, the police and the
    subject each read their own text of it."""
    update = updates.write(
        case,
        lado,
        text=(
            "The ASV meeting is arranged. Child A (demo) has been spoken to by her class "
            "teacher with her parents present. Dana Safeguarding reported the concern the "
            "same day; the police can be reached on 01632 960 999. Until the meeting the "
            "school keeps the subject away from Year 5."
        ),
        audiences=[Audience.REFERRER, Audience.POLICE, Audience.SUBJECT],
        other_names=[],
        address_hash=None,
    )
    terms = redaction.suggestions(update.text or "", updates.known(case, update))
    chosen = updates.chosen_texts(update, terms, kept=updates.suggested(update, terms), added={})
    shown = updates.digest(updates.previews(update, chosen))
    updates.publish(case, update, lado, chosen, shown, None)


def load(
    users: dict[str, User],
    organisations: dict[str, Organisation],
    authorities: dict[str, Authority],
) -> None:
    # The forms read dates against "today" and need a request for their machinery.
    with current_app.test_request_context():
        dsl = users["dsl@oakwood.example"]
        oakwood = organisations["oakwood"]
        brookfield = authorities["BRK"]
        today = _today()
        incident = {**INCIDENT_ANSWERS, "incident_on": today, "became_aware_on": today}

        _sent(dsl, oakwood, brookfield, incident)
        in_meetings = _sent(
            dsl,
            oakwood,
            brookfield,
            {**incident, "harm_category": "emotional"},
            full_name="Robin Sample (demo)",
            job_title="Volunteer reading helper",
            has_employer="no",
            employer="",
        )
        _to_a_meeting(users, organisations, in_meetings)
        # A volunteer has no employer to tell them: they read their updates themselves.
        subject = users["subject@example.org"]
        subject.subject_links.append(
            SubjectLink(
                id=uuid.uuid4(),
                user_id=subject.id,
                case_id=in_meetings.id,
                authority_id=in_meetings.authority_id,
            )
        )

        draft = service.start_referral(dsl, oakwood, brookfield, None)
        _save(
            dsl,
            draft,
            ABOUT_YOU,
            {
                "name": dsl.full_name,
                "role": "Designated safeguarding lead",
                "phone": "01632 960 001",
                "email": dsl.email,
            },
        )
        _save(
            dsl,
            draft,
            SUBJECT,
            {**SUBJECT_ANSWERS, "full_name": "Jo Sample (demo)", "job_title": "Midday supervisor"},
        )

        logged_contact(users["lado@brookfield.example"], brookfield, "A junior")
        # The same coach, at a club in Eastmere: each team sees the other's contact
        # among the earlier ones (when, where, who to ask; never the story).
        logged_contact(users["lado@eastmere.example"], authorities["EAS"], "An Eastmere")
        _long_ago(dsl, users["lado@brookfield.example"], oakwood, brookfield, incident)


def logged_contact(lado: User, authority: Authority, club: str, *, send: bool = True) -> Case:
    """A parent's phone call about a football coach, logged by the LADO's team (and
    added to the queue, unless ``send`` is false). Needs a request context."""
    today = _today()
    incident = {**INCIDENT_ANSWERS, "incident_on": today, "became_aware_on": today}
    contact = service.start_contact(lado, authority, None)
    _save(
        lado,
        contact,
        CONTACT,
        {
            "source_type": "public",
            "contact_method": "phone",
            "received_on": today,
            "referrer_name": "A parent (demo)",
            "referrer_role": "Parent",
            "phone": "07700 900 982",
        },
        organisations=[],
    )
    _save(
        lado,
        contact,
        SUBJECT,
        {
            **SUBJECT_ANSWERS,
            "full_name": "Alex Coach (demo)",
            "job_title": "Football coach",
            "has_employer": "no",
            "employer": "",
            "sector": "sport",
        },
    )
    service.set_children_involved(lado, contact, Answer.NO, None)
    _save(
        lado,
        contact,
        INCIDENT,
        {
            **incident,
            "harm_category": "emotional",
            "criteria": ["unsuitable"],
            "location": f"{club} football club (demo)",
            "allegation": "A parent says the coach shouts at and belittles the under-10s. (demo)",
            "alleged_by": "A parent (demo)",
            "came_to_light": "The parent phoned the LADO. (demo)",
        },
    )
    _save(
        lado,
        contact,
        ACTIONS,
        {**ACTIONS_ANSWERS, "parents_informed": "yes", "employment_action": "not_applicable"},
    )
    if send:
        service.submit(lado, contact, CONTACT_SECTIONS, None)
    return contact


def _long_ago(
    dsl: User, lado: User, oakwood: Organisation, brookfield: Authority, incident: dict[str, Any]
) -> None:
    """A referral closed eleven years ago about someone now past State Pension age, so
    its records were due for destruction last year: what the Retention page shows the
    LADO managers (two of whom may destroy it)."""
    case = _sent(
        dsl,
        oakwood,
        brookfield,
        incident,
        full_name="Sam Former (demo)",
        date_of_birth=["1", "3", "1950"],
    )
    received = utcnow() - timedelta(days=11 * 365)
    concluded = received + timedelta(days=90)
    case.received_at = received
    case.incident_on = uk_date(received)
    case.reference = f"{brookfield.code}-{case.incident_on.year}-00001"
    # Its history as the machine would have written it then, in place of today's.
    db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id))
    db.session.execute(delete(Deadline).where(Deadline.case_id == case.id))
    path = demo_cases.CLOSED_PATHS[-1][1]
    demo_cases.add_history(random.Random(2015), case, dsl, [lado], path, received, concluded)  # noqa: S311
    case.status = CaseStatus.CLOSED
    case.decision = "accept_referral"
    case.outcome = Outcome.UNFOUNDED
    case.outcome_on = uk_date(concluded)
    case.outcome_months = 3
    case.retained_until = retained_until(case.incident_on, date(1950, 3, 1))
    db.session.commit()
