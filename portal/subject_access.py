"""Subject access requests: everything an authority holds about a person, found through
the blind index of subjects' names and dates of birth across its cases, as a ZIP a LADO
manager hands over.

The ZIP holds a readable page (``records.html``, to read or print), the same as data
(``records.json``), and ``manifest.sha256`` (``sha256sum -c manifest.sha256`` checks
it). What others told the LADO about third parties is not the person's to have: the
children's and the referrer's names, witnesses' names and children's dates of birth are
redacted from every text by the redaction engine, and phone numbers and e-mail addresses
too (in free text they are nearly always someone else's); those people's own records
(children, the referrer's details) are withheld. The export is audited with the
manifest's own SHA-256, so the trail shows later that a copy is the one given.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import render_template
from sqlalchemy import select

from portal import access, audit, keystore
from portal.casework.repeats import PERSON
from portal.extensions import db
from portal.formatting import date_and_time, long_date
from portal.models import (
    AuditKind,
    Authority,
    Case,
    CaseConclusion,
    CaseEvent,
    CaseNote,
    CaseUpdate,
    Meeting,
    OnwardReferral,
    Subject,
    User,
    utcnow,
)
from portal.redaction import Known, Sensitive, redact, suggestions

# What the person may not read in any text: other people, and how to reach them.
THIRD_PARTY = frozenset(
    {
        Sensitive.CHILD,
        Sensitive.REFERRER,
        Sensitive.WITNESS,
        Sensitive.DATE_OF_BIRTH,
        Sensitive.PHONE,
        Sensitive.EMAIL,
    }
)
WITHHELD = "Withheld: about someone else"


def find(authority: Authority, full_name: str, born: date) -> list[Case]:
    """The authority's cases (sent, not destroyed) whose subject has this name and date
    of birth, oldest first."""
    subject_ids = keystore.find_ids(Subject, PERSON, date_of_birth=born, full_name=full_name)
    if not subject_ids:
        return []
    subjects = select(Subject.case_id).where(Subject.id.in_(subject_ids))
    return list(
        db.session.scalars(
            access.cases_of(authority).where(Case.id.in_(subjects)).order_by(Case.received_at)
        )
    )


def record_search(authority: Authority, user: User, found: list[Case], address_hash: str) -> None:
    audit.record(
        AuditKind.SUBJECT_ACCESS_SEARCHED,
        actor_id=user.id,
        authority_id=authority.id,
        address_hash=address_hash,
        cases=len(found),
    )


@dataclass
class Export:
    content: bytes  # the ZIP
    manifest_sha256: str
    cases: int


def export(authority: Authority, user: User, found: list[Case], address_hash: str) -> Export:
    """The ZIP for these cases (none: an empty answer, which is an answer too), audited
    in the caller's transaction."""
    made_at = utcnow()
    records = [_record(case) for case in found]
    files = {
        "records.json": json.dumps(
            {
                "authority": authority.display_name,
                "exported_at": made_at.isoformat(),
                "records": records,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        ).encode(),
        "records.html": render_template(
            "casework/subject_access_export.html",
            authority=authority,
            records=records,
            made_at=made_at,
            withheld=WITHHELD,
        ).encode(),
    }
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*files.items(), ("manifest.sha256", manifest)]:
            archive.writestr(zipfile.ZipInfo(name, date_time=made_at.timetuple()[:6]), data)
    digest = hashlib.sha256(manifest).hexdigest()
    audit.record(
        AuditKind.SUBJECT_ACCESS_EXPORTED,
        actor_id=user.id,
        authority_id=authority.id,
        address_hash=address_hash,
        cases=[case.id for case in found],
        manifest_sha256=digest,
    )
    return Export(buffer.getvalue(), digest, len(found))


def _record(case: Case) -> dict[str, Any]:
    """One case as the person may read it."""
    subject = case.subject
    updates = db.session.scalars(select(CaseUpdate).where(CaseUpdate.case_id == case.id)).all()
    known = Known(
        children=[child.name for child in case.children if child.name],
        referrers=[case.referrer_name] if case.referrer_name else [],
        witnesses=[name for update in updates for name in update.other_names or []],
        dates_of_birth=[child.date_of_birth for child in case.children if child.date_of_birth],
    )

    def clean(text: str | None) -> str | None:
        if not text:
            return text
        terms = [t.text for t in suggestions(text, known) if t.kind in THIRD_PARTY]
        return redact(text, terms)

    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.occurred_at)
    ).all()
    meetings = db.session.scalars(access.meetings_of(case).order_by(Meeting.starts_at)).all()
    notes = db.session.scalars(
        select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.created_at)
    ).all()
    subject_texts = db.session.scalars(access.updates_for_subject(case)).all()
    return {
        "reference": case.reference,
        "received": _when(case.received_at),
        "status": case.status.label,
        "category_of_harm": case.harm_category.label if case.harm_category else None,
        "outcome": case.outcome.label if case.outcome else None,
        "outcome_on": _when(case.outcome_on),
        "kept_until": _when(case.retained_until),
        "about_you": {
            "full_name": subject.full_name if subject else None,
            "other_names": subject.other_names if subject else None,
            "date_of_birth": _when(subject.date_of_birth) if subject else None,
            "address": subject.address if subject else None,
            "job_title": subject.job_title if subject else None,
            "employer": subject.employer if subject else None,
        },
        "allegation": clean(case.allegation),
        "where": clean(case.location),
        "how_it_came_to_light": clean(case.came_to_light),
        "referrer": WITHHELD,
        "children": (
            f"{len(case.children)} {'child' if len(case.children) == 1 else 'children'}: "
            f"{WITHHELD.lower()}"
        ),
        "decisions": [
            {
                "on": _when(event.occurred_at),
                "to": event.to_status.label,
                "reasons": clean(event.rationale),
            }
            for event in events
        ],
        "meetings": [
            {
                "on": _when(meeting.starts_at),
                "decisions": clean(meeting.decisions),
                "minutes": clean(meeting.minutes),
            }
            for meeting in meetings
        ],
        "notes": [{"on": _when(note.created_at), "text": clean(note.text)} for note in notes],
        "updates_to_you": [
            {"on": _when(text.published_at), "text": text.text} for text in subject_texts
        ],
        "concluding_actions": [
            {"action": conclusion.kind.label, "on": _when(conclusion.on)}
            for conclusion in db.session.scalars(
                select(CaseConclusion).where(CaseConclusion.case_id == case.id)
            )
        ],
        "referred_to": [
            {"body": referral.other_body or referral.body.label, "on": _when(referral.on)}
            for referral in db.session.scalars(
                select(OnwardReferral).where(OnwardReferral.case_id == case.id)
            )
        ],
    }


def _when(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    return date_and_time(value) if isinstance(value, datetime) else long_date(value)
