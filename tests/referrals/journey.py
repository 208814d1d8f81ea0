"""A referral filled in over HTTP, page by page, as a partner or the LADO's team would.

Tests start from here so that every case they use was made by the real form, service and
encryption; each answer is a distinct canary-like value, so a test can look for it.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import date
from typing import Any

from flask import Flask

from portal.extensions import db
from portal.models import Case, utcnow
from portal.workdays import uk_date
from tests.client import PortalClient


def date_parts(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


# Reported the day it happened, as the 1-working-day duty asks.
TODAY = date_parts(uk_date(utcnow()))

CASE_URL = re.compile(
    r"/(?:organisations|authorities)/[0-9a-f-]{36}/(?:referrals|contacts)/[0-9a-f-]{36}"
)

ABOUT_YOU = {
    "name": "Priya Referrer-Canary",
    "role": "Designated safeguarding lead",
    "phone": "01632 960 001",
    "email": "dsl@oakwood.test.example",
}
CONTACT = {
    "source_type": "public",
    "contact_method": "phone",
    "received_on": TODAY,
    "referrer_name": "Jo Caller-Canary",
    "referrer_role": "Parent",
    "referrer_organisation_name": "",
    "organisation": "",
    "phone": "07700 900 982",
    "email": "",
}
SUBJECT = {
    "full_name": "Morgan Subject-Canary",
    "other_names": "Morgan Previous-Canary",
    "date_of_birth": ["14", "6", "1984"],
    "address": "1 Canary Row, Testtown, TE1 1ST",
    "job_title": "Class teacher",
    "has_employer": "yes",
    "employer": "Oakwood Primary",
    "sector": "teaching",
    "works_with_children": "yes",
    "regulated": "yes",
    "regulator": "tra",
    "regulator_other": "",
}
CHILDREN_INVOLVED = {"children_involved": "yes"}
CHILD = {
    "name": "Alex Child-Canary",
    "date_of_birth": ["3", "2", "2016"],
    "age": "",
    "gender": "girl",
    "setting": "Oakwood Primary, Year 5",
    "special_needs": "no",
    "known_to_social_care": "not_known",
    "words": "He grabbed my arm very hard (child-words-canary)",
}
INCIDENT = {
    "incident_on": TODAY,
    "incident_dates_detail": "",
    "location": "Classroom 4 (location-canary)",
    "allegation": "Grabbed a pupil's arm, leaving a bruise (allegation-canary)",
    "alleged_by": "The child, to her teaching assistant (alleged-by-canary)",
    "came_to_light": "The child told her teaching assistant at lunchtime (came-to-light-canary)",
    "became_aware_on": TODAY,
    "late_reason": "",
    "harm_category": "physical",
    "criteria": ["harmed_child"],
}
ACTIONS = {
    "police_informed": "yes",
    "crime_reference": "CR/CANARY/2026/77",
    "csc_informed": "yes",
    "parents_informed": "yes",
    "employment_action": "nothing_yet",
    "other_agencies": "The chair of governors (other-agencies-canary)",
}
# A real (if tiny) PDF: the file check reads content, not the name.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def case_id_of(url: str) -> uuid.UUID:
    return uuid.UUID(url.rstrip("/").rsplit("/", 1)[-1])


def start_referral(
    client: PortalClient, organisation_id: uuid.UUID, authority_id: uuid.UUID
) -> str:
    """A new draft; returns its task list's path."""
    response = client.submit(
        f"/organisations/{organisation_id}/referrals/new", {"authority": str(authority_id)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def start_contact(client: PortalClient, authority_id: uuid.UUID) -> str:
    response = client.submit(f"/authorities/{authority_id}/contacts/new", {})
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def save(client: PortalClient, url: str, answers: dict[str, Any]) -> None:
    response = client.submit(url, answers)
    assert response.status_code == 302, (url, response.get_data(as_text=True))


def add_child(client: PortalClient, case_url: str, answers: dict[str, Any] | None = None) -> None:
    save(client, f"{case_url}/children/new", answers or CHILD)


def upload(
    client: PortalClient, case_url: str, content: bytes = PDF, name: str = "statement.pdf"
) -> Any:
    client.get(f"{case_url}/files")
    return client.post(
        f"{case_url}/files",
        data={"csrf_token": client.csrf_token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


# A referral's pages of questions in order, with the answers: a child is added on
# children/new. (A contact the LADO's team logs starts with "contact" instead.)
PAGES = (
    ("about-you", ABOUT_YOU),
    ("person", SUBJECT),
    ("children", CHILDREN_INVOLVED),
    ("children/new", CHILD),
    ("what-happened", INCIDENT),
    ("actions", ACTIONS),
)


def fill_in(client: PortalClient, case_url: str, *, contact: bool = False) -> None:
    """Every section answered, a child and a file added: ready to check and send."""
    for page, answers in (("contact", CONTACT), *PAGES[1:]) if contact else PAGES:
        save(client, f"{case_url}/{page}", answers)
    assert upload(client, case_url).status_code == 302


def send(client: PortalClient, case_url: str) -> Any:
    return client.submit(f"{case_url}/check", {})


def the_case(app: Flask, case_url: str) -> Case:
    """The case as stored (call inside an app context to use its relationships)."""
    case = db.session.get(Case, case_id_of(case_url))
    assert case is not None
    return case
