"""Fictional demo referrals: a sent referral and a half-finished draft from Oakwood
Primary School, and a phone call the Brookfield LADO logged. They go through the real
forms (so they pass the same checks as typed answers) and the real service (so they are
sealed, numbered and audited as any other)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from werkzeug.datastructures import MultiDict

from portal.models import Authority, Organisation, User, utcnow
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
from portal.vocabulary import Answer
from portal.workdays import uk_date


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


def _add_child(user: User, case: Any) -> None:
    service.set_children_involved(user, case, Answer.YES, None)
    service.save_child(user, case, None, _form(forms.ChildForm, CHILD_ANSWERS), None)


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

        sent = service.start_referral(dsl, oakwood, brookfield, None)
        _save(
            dsl,
            sent,
            ABOUT_YOU,
            {
                "name": dsl.full_name,
                "role": "Designated safeguarding lead",
                "phone": "01632 960 001",
                "email": dsl.email,
            },
        )
        _save(dsl, sent, SUBJECT, SUBJECT_ANSWERS)
        _add_child(dsl, sent)
        _save(dsl, sent, INCIDENT, incident)
        _save(dsl, sent, ACTIONS, ACTIONS_ANSWERS)
        service.submit(dsl, sent, PARTNER_SECTIONS, None)

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

        lado = users["lado@brookfield.example"]
        contact = service.start_contact(lado, brookfield, None)
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
                "location": "A junior football club (demo)",
                "allegation": "A parent says the coach shouts at and belittles the "
                "under-10s. (demo)",
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
        service.submit(lado, contact, CONTACT_SECTIONS, None)
