"""The sections of the referral form: what each page asks, how its answers are read from
and written to the case, and how they read back on the check-your-answers page.

A partner's referral starts with "About you"; a contact the LADO's team logs starts with
"Who made contact". The rest is the same for both.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.formatting import long_date
from portal.models import Case, Child, Subject, User, utcnow
from portal.referrals import forms
from portal.vocabulary import (
    Answer,
    ChildGender,
    ContactMethod,
    EmploymentAction,
    HarmCategory,
    LabelledEnum,
    RegulatoryBody,
    SourceType,
    SubjectSector,
    ThresholdCriterion,
)
from portal.workdays import uk_date, uk_noon


@dataclass(frozen=True)
class Row:
    """One answer as the check-your-answers page shows it."""

    question: str
    answer: str


@dataclass(frozen=True)
class Section:
    key: str  # also its URL: /referrals/<id>/<key>
    title: str
    form: type[forms.SectionForm] | None  # None: a page of its own (children, files)
    load: Callable[[Case, User], dict[str, Any]] = lambda case, user: {}
    store: Callable[[Case, Any], None] = lambda case, form: None
    summary: Callable[[Case], list[Row]] = lambda case: []
    optional: bool = False


def _label(value: LabelledEnum | None, empty: str = "Not given") -> str:
    return value.label if value is not None else empty


def _text(value: str | None, empty: str = "Not given") -> str:
    return value if value else empty


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _enum(enum_class: type[Any], value: str | None) -> Any:
    return enum_class(value) if value else None


# About you (a partner's referral)


def _load_about_you(case: Case, user: User) -> dict[str, Any]:
    return {
        "name": case.referrer_name or user.full_name,
        "role": case.referrer_role,
        "phone": case.referrer_phone,
        "email": case.referrer_email or user.email,
    }


def _store_about_you(case: Case, form: forms.AboutYouForm) -> None:
    case.referrer_name = form.name.data.strip()
    case.referrer_role = form.role.data.strip()
    case.referrer_phone = form.phone.data.strip()
    case.referrer_email = form.email.data.strip()


def _about_you(case: Case) -> list[Row]:
    return [
        Row("Name", _text(case.referrer_name)),
        Row("Job title or role", _text(case.referrer_role)),
        Row("Phone number", _text(case.referrer_phone)),
        Row("Email address", _text(case.referrer_email)),
    ]


# Who made contact (a contact the LADO's team logs)


def _load_contact(case: Case, user: User) -> dict[str, Any]:
    return {
        "source_type": case.source_type.value if case.source_type else None,
        "contact_method": case.contact_method.value if case.contact_method else None,
        "received_on": uk_date(case.received_at) if case.received_at else None,
        "referrer_name": case.referrer_name,
        "referrer_role": case.referrer_role,
        "referrer_organisation_name": case.referrer_organisation_name,
        "organisation": str(case.organisation_id) if case.organisation_id else "",
        "phone": case.referrer_phone,
        "email": case.referrer_email,
    }


def received_at(day: datetime.date, now: datetime.datetime) -> datetime.datetime:
    """When a logged contact counts as received: now if it came today, otherwise noon
    (UK time) on the day it came, which is on that day whatever the clocks do."""
    if day == uk_date(now):
        return now
    return uk_noon(day)


def _store_contact(case: Case, form: forms.ContactForm) -> None:
    case.source_type = SourceType(form.source_type.data)
    case.contact_method = ContactMethod(form.contact_method.data)
    case.received_at = received_at(form.received_on.required_date, utcnow())
    case.referrer_name = _clean(form.referrer_name.data)
    case.referrer_role = _clean(form.referrer_role.data)
    case.referrer_organisation_name = _clean(form.referrer_organisation_name.data)
    case.organisation_id = form.chosen_organisation
    case.referrer_phone = _clean(form.phone.data)
    case.referrer_email = _clean(form.email.data)


def _contact(case: Case) -> list[Row]:
    return [
        Row("Who it came from", _label(case.source_type)),
        Row("How it reached you", _label(case.contact_method)),
        Row("When it reached you", long_date(case.received_at) or "Not given"),
        Row("Their name", _text(case.referrer_name)),
        Row("Their role or relationship", _text(case.referrer_role)),
        Row("Their organisation", _text(case.referrer_organisation_name)),
        Row("Phone number", _text(case.referrer_phone)),
        Row("Email address", _text(case.referrer_email)),
    ]


# The person of concern


def _load_subject(case: Case, user: User) -> dict[str, Any]:
    subject = case.subject
    if subject is None:
        return {}
    return {
        "full_name": subject.full_name,
        "other_names": subject.other_names,
        "date_of_birth": subject.date_of_birth,
        "address": subject.address,
        "job_title": subject.job_title,
        "has_employer": None if subject.has_employer is None else _yes_no(subject.has_employer),
        "employer": subject.employer,
        "sector": subject.sector.value if subject.sector else None,
        "works_with_children": subject.works_with_children.value
        if subject.works_with_children
        else None,
        "regulated": subject.regulated.value if subject.regulated else None,
        "regulator": subject.regulator.value if subject.regulator else "",
        "regulator_other": subject.regulator_other,
    }


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _store_subject(case: Case, form: forms.SubjectForm) -> None:
    # The case's id is set now, not at flush: sealing the fields needs the case's key.
    subject = case.subject or Subject(case_id=case.id, authority_id=case.authority_id)
    case.subject = subject
    subject.full_name = form.full_name.data.strip()
    subject.other_names = _clean(form.other_names.data)
    subject.date_of_birth = form.date_of_birth.data
    subject.address = _clean(form.address.data)
    subject.job_title = form.job_title.data.strip()
    subject.has_employer = form.has_employer.data == "yes"
    subject.employer = _clean(form.employer.data)
    subject.sector = SubjectSector(form.sector.data)
    subject.works_with_children = Answer(form.works_with_children.data)
    subject.regulated = Answer(form.regulated.data)
    regulated = subject.regulated == Answer.YES
    subject.regulator = _enum(RegulatoryBody, form.regulator.data) if regulated else None
    subject.regulator_other = (
        _clean(form.regulator_other.data) if subject.regulator == RegulatoryBody.OTHER else None
    )


def _subject(case: Case) -> list[Row]:
    subject = case.subject
    if subject is None:
        return []
    regulator = _label(subject.regulator, "")
    if subject.regulator == RegulatoryBody.OTHER:
        regulator = _text(subject.regulator_other)
    return [
        Row("Full name", _text(subject.full_name)),
        Row("Other names", _text(subject.other_names, "None")),
        Row("Date of birth", long_date(subject.date_of_birth) or "Not known"),
        Row("Home address", _text(subject.address, "Not known")),
        Row("Job title or role", _text(subject.job_title)),
        Row("Has an employer", "Yes" if subject.has_employer else "No"),
        Row("Employer or setting", _text(subject.employer, "None")),
        Row("Sector", _label(subject.sector)),
        Row("Still working with children", _label(subject.works_with_children)),
        Row(
            "Registered with a regulatory body",
            _label(subject.regulated) + (f": {regulator}" if regulator else ""),
        ),
    ]


# The children (the list page and each child's page are views of their own)


def rows_for_child(child: Child) -> list[Row]:
    born = (
        long_date(child.date_of_birth)
        if child.date_of_birth
        else (f"Aged {child.age}" if child.age is not None else "Not known")
    )
    return [
        Row("Date of birth or age", born),
        Row("Gender", _label(_enum(ChildGender, child.gender))),
        Row("School or setting", _text(child.setting)),
        Row("Special educational needs or a disability", _label(child.special_needs)),
        Row("Known to children's social care", _label(child.known_to_social_care)),
        Row("What they said", _text(child.words)),
    ]


def child_rows(case: Case) -> list[Row]:
    if case.children_involved == Answer.NO:
        return [Row("Particular children involved", "No")]
    rows = []
    for number, child in enumerate(case.children, start=1):
        rows.append(Row(f"Child {number}", _text(child.name)))
        rows.extend(rows_for_child(child))
    return rows


# What happened


def _load_incident(case: Case, user: User) -> dict[str, Any]:
    return {
        "incident_on": case.incident_on,
        "incident_dates_detail": case.incident_dates_detail,
        "location": case.location,
        "allegation": case.allegation,
        "alleged_by": case.alleged_by,
        "came_to_light": case.came_to_light,
        "became_aware_on": case.became_aware_on,
        "late_reason": case.late_reason,
        "harm_category": case.harm_category.value if case.harm_category else None,
        "criteria": list(case.criteria or []),
    }


def _store_incident(case: Case, form: forms.IncidentForm) -> None:
    case.incident_on = form.incident_on.data
    case.incident_dates_detail = _clean(form.incident_dates_detail.data)
    case.location = form.location.data.strip()
    case.allegation = form.allegation.data.strip()
    case.alleged_by = form.alleged_by.data.strip()
    case.came_to_light = form.came_to_light.data.strip()
    case.became_aware_on = form.became_aware_on.data
    case.late_reason = _clean(form.late_reason.data)
    case.harm_category = HarmCategory(form.harm_category.data)
    case.criteria = [value for value in form.criteria.data if value != forms.NOT_SURE]


def _incident(case: Case) -> list[Row]:
    criteria = [ThresholdCriterion(value).label for value in case.criteria or []]
    return [
        Row("When it happened", long_date(case.incident_on) or "Not known"),
        Row("More about when", _text(case.incident_dates_detail, "Nothing more")),
        Row("Where it happened", _text(case.location)),
        Row("What is alleged", _text(case.allegation)),
        Row("Who made the allegation", _text(case.alleged_by)),
        Row("How it came to light", _text(case.came_to_light)),
        Row("When you became aware", long_date(case.became_aware_on) or "Not given"),
        Row("Why it is being reported now", _text(case.late_reason, "Not given")),
        Row("Category of harm", _label(case.harm_category)),
        Row("Criteria that may apply", "; ".join(criteria) or "Not sure"),
    ]


# Actions taken so far


def _load_actions(case: Case, user: User) -> dict[str, Any]:
    return {
        "police_informed": case.police_informed.value if case.police_informed else None,
        "crime_reference": case.crime_reference,
        "csc_informed": case.csc_informed.value if case.csc_informed else None,
        "parents_informed": case.parents_informed.value if case.parents_informed else None,
        "employment_action": case.employment_action.value if case.employment_action else None,
        "other_agencies": case.other_agencies,
    }


def _store_actions(case: Case, form: forms.ActionsForm) -> None:
    case.police_informed = Answer(form.police_informed.data)
    case.crime_reference = _clean(form.crime_reference.data)
    case.csc_informed = Answer(form.csc_informed.data)
    case.parents_informed = Answer(form.parents_informed.data)
    case.employment_action = EmploymentAction(form.employment_action.data)
    case.other_agencies = _clean(form.other_agencies.data)


def _actions(case: Case) -> list[Row]:
    return [
        Row("Police told", _label(case.police_informed)),
        Row("Crime reference number", _text(case.crime_reference, "None")),
        Row("Children's social care told", _label(case.csc_informed)),
        Row("Parents or carers told", _label(case.parents_informed)),
        Row("What the employer has done", _label(case.employment_action)),
        Row("Other agencies told", _text(case.other_agencies, "None")),
    ]


ABOUT_YOU = Section(
    "about-you", "About you", forms.AboutYouForm, _load_about_you, _store_about_you, _about_you
)
CONTACT = Section(
    "contact", "Who made contact", forms.ContactForm, _load_contact, _store_contact, _contact
)
SUBJECT = Section(
    "person",
    "The person the allegation is about",
    forms.SubjectForm,
    _load_subject,
    _store_subject,
    _subject,
)
CHILDREN = Section("children", "The children", None, summary=child_rows)
INCIDENT = Section(
    "what-happened",
    "What happened",
    forms.IncidentForm,
    _load_incident,
    _store_incident,
    _incident,
)
ACTIONS = Section(
    "actions",
    "What has been done so far",
    forms.ActionsForm,
    _load_actions,
    _store_actions,
    _actions,
)
ATTACHMENTS = Section("files", "Documents and photos", None, optional=True)

PARTNER_SECTIONS = (ABOUT_YOU, SUBJECT, CHILDREN, INCIDENT, ACTIONS, ATTACHMENTS)
CONTACT_SECTIONS = (CONTACT, SUBJECT, CHILDREN, INCIDENT, ACTIONS, ATTACHMENTS)
