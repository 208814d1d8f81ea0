"""Writing an update, choosing its redactions per audience, and publishing it.

Who belongs to each audience comes from the case: the referrer's organisation, the
organisations asked for a checklist or invited to a meeting (by their agency), and the
subject. Each organisation reads one text of an update: that of the first audience it
belongs to among those chosen, in AUDIENCE_ORDER (the police read the police's text
even when they referred the case).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import select

from portal import audit, redaction, workflow
from portal.checklists import Agency, agency_for
from portal.extensions import db
from portal.formatting import long_date
from portal.meetings.service import answerers, tell
from portal.models import (
    AuditKind,
    Case,
    CaseUpdate,
    DeadlineKind,
    Embargo,
    InformationRequest,
    MeetingInvitee,
    Organisation,
    PublishedUpdate,
    UpdateRecipient,
    User,
    utcnow,
)
from portal.redaction import Audience, Known, Term
from portal.subjects import service as subjects
from portal.workdays import uk_date

AUDIENCE_ORDER = (
    Audience.POLICE,
    Audience.CHILDRENS_SERVICES,
    Audience.REFERRER,
    Audience.EMPLOYER,
    Audience.INVITEES,
    Audience.SUBJECT,
)
_BY_AGENCY = {
    Agency.POLICE: Audience.POLICE,
    Agency.CHILDRENS_SERVICES: Audience.CHILDRENS_SERVICES,
    Agency.EMPLOYER: Audience.EMPLOYER,
}
# What the police may embargo: telling the subject, or the employer.
EMBARGOABLE = (Audience.SUBJECT, Audience.EMPLOYER)


class UpdateProblemError(Exception):
    """Something stops the update: the field to show it on, and why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name


def audience_organisations(case: Case) -> dict[Audience, list[Organisation]]:
    """Each partner audience's organisations on this case (one may be in several)."""
    asked = db.session.execute(
        select(InformationRequest.organisation_id, InformationRequest.agency).where(
            InformationRequest.case_id == case.id
        )
    ).all()
    invited = {
        organisation_id
        for organisation_id in db.session.scalars(
            select(MeetingInvitee.organisation_id).where(MeetingInvitee.case_id == case.id)
        )
        if organisation_id is not None
    }
    ids = {organisation_id for organisation_id, _ in asked} | invited
    if case.organisation_id:
        ids.add(case.organisation_id)
    organisations = {
        o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    }
    found: dict[Audience, dict[uuid.UUID, Organisation]] = {a: {} for a in Audience}
    referrer = organisations.get(case.organisation_id) if case.organisation_id else None
    if referrer is not None:
        found[Audience.REFERRER][referrer.id] = referrer
    for organisation_id, agency in asked:
        found[_BY_AGENCY[agency]][organisation_id] = organisations[organisation_id]
    for organisation_id in invited:
        organisation = organisations[organisation_id]
        audience = _BY_AGENCY[agency_for(organisation.type)]
        if audience != Audience.EMPLOYER:  # the police and social care by their type
            found[audience][organisation_id] = organisation
        found[Audience.INVITEES][organisation_id] = organisation
    return {
        audience: sorted(by_id.values(), key=lambda o: o.name)
        for audience, by_id in found.items()
        if audience != Audience.SUBJECT
    }


def recipients(case: Case, chosen: Iterable[Audience]) -> dict[Audience, list[Organisation]]:
    """Who reads which text: each organisation in the first chosen audience it is in."""
    chosen = set(chosen)
    every = audience_organisations(case)
    placed: set[uuid.UUID] = set()
    result: dict[Audience, list[Organisation]] = {}
    for audience in AUDIENCE_ORDER:
        if audience not in chosen:
            continue
        result[audience] = [o for o in every.get(audience, []) if o.id not in placed]
        placed |= {o.id for o in result[audience]}
    return result


def offered(every: Mapping[Audience, list[Organisation]]) -> list[Audience]:
    """The audiences an update may go to (given audience_organisations): those with
    someone in them, and the subject."""
    return [a for a in AUDIENCE_ORDER if a == Audience.SUBJECT or every.get(a)]


# Embargoes


def standing(case: Case, today: date | None = None) -> dict[Audience, Embargo]:
    """The embargoes that stand today, by audience (the latest if several)."""
    today = today or uk_date(utcnow())
    found = db.session.scalars(
        select(Embargo)
        .where(Embargo.case_id == case.id, Embargo.lifted_at.is_(None), Embargo.until >= today)
        .order_by(Embargo.until)
    )
    return {embargo.audience: embargo for embargo in found}


def embargo(
    case: Case,
    actor: User,
    audience: Audience,
    until: date,
    reason: str,
    address_hash: str | None,
    organisation: Organisation | None = None,
) -> Embargo:
    if audience not in EMBARGOABLE:
        raise UpdateProblemError("audience", "Select who may not be told")
    if until < uk_date(utcnow()):
        raise UpdateProblemError("until", "The date must be today or in the future")
    found = Embargo(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=case.authority_id,
        audience=audience,
        until=until,
        set_by_id=actor.id,
        set_by_organisation_id=organisation.id if organisation else None,
    )
    found.reason = reason.strip()
    db.session.add(found)
    audit.about_case(
        AuditKind.EMBARGO_SET,
        case,
        actor.id,
        address_hash,
        embargo_id=str(found.id),
        audience=audience.value,
        until=until.isoformat(),
        by_organisation_id=str(organisation.id) if organisation else None,
    )
    return found


def lift(case: Case, found: Embargo, actor: User, address_hash: str | None) -> None:
    found.lifted_at = utcnow()
    found.lifted_by_id = actor.id
    audit.about_case(
        AuditKind.EMBARGO_LIFTED, case, actor.id, address_hash, embargo_id=str(found.id)
    )


def embargo_message(found: Embargo) -> str:
    who = redaction.Audience(found.audience).label.lower()
    return f"Nothing may be published to {who} until the end of {long_date(found.until)}"


# Writing and publishing


def write(
    case: Case,
    actor: User,
    *,
    text: str,
    audiences: list[Audience],
    other_names: list[str],
    address_hash: str | None,
) -> CaseUpdate:
    if not audiences:
        raise UpdateProblemError("audiences", "Select who the update is for")
    _refuse_embargoed(case, audiences, "audiences")
    update = CaseUpdate(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=case.authority_id,
        audience_values=[a.value for a in AUDIENCE_ORDER if a in audiences],
        written_by_id=actor.id,
    )
    update.text = text.strip()
    update.other_names = [name.strip() for name in other_names if name.strip()]
    db.session.add(update)
    audit.about_case(
        AuditKind.UPDATE_WRITTEN, case, actor.id, address_hash, update_id=str(update.id)
    )
    return update


def audiences_of(update: CaseUpdate) -> list[Audience]:
    return [Audience(value) for value in update.audience_values]


def known(case: Case, update: CaseUpdate) -> Known:
    """What the case's own fields, and the names the LADO added, say is sensitive."""
    subject = case.subject
    return Known(
        children=[c.name for c in case.children if c.name],
        referrers=[case.referrer_name] if case.referrer_name else [],
        witnesses=list(update.other_names or []),
        addresses=[subject.address] if subject and subject.address else [],
        dates_of_birth=[
            day
            for day in (
                *(c.date_of_birth for c in case.children),
                subject.date_of_birth if subject else None,
            )
            if day
        ],
        crime_references=[case.crime_reference] if case.crime_reference else [],
    )


def suggested(update: CaseUpdate, terms: list[Term]) -> dict[Audience, list[str]]:
    """The suggestions ticked before the LADO changes anything: each audience's rule."""
    return {
        audience: [
            t.text for t in redaction.proposed(audience, terms) if redaction.removable(audience, t)
        ]
        for audience in audiences_of(update)
    }


def chosen_texts(
    update: CaseUpdate,
    terms: list[Term],
    kept: Mapping[Audience, Iterable[str]],
    added: Mapping[Audience, Iterable[str]],
) -> dict[Audience, set[str]]:
    """What each audience loses: the suggestions the LADO left ticked (``kept`` is the
    ticked ones), those its rule always takes out, and what the LADO added."""
    result = {}
    for audience in audiences_of(update):
        ticked = set(kept.get(audience, ()))
        result[audience] = {
            term.text
            for term in terms
            if term.text in ticked or not redaction.removable(audience, term)
        } | {line.strip() for line in added.get(audience, ()) if line.strip()}
    return result


def previews(update: CaseUpdate, chosen: Mapping[Audience, set[str]]) -> dict[Audience, str]:
    return {a: redaction.redact(update.text or "", chosen.get(a, set())) for a in chosen}


def digest(texts: Mapping[Audience, str]) -> str:
    """A fingerprint of the texts shown, so what is published is what was seen."""
    encoded = json.dumps({a.value: t for a, t in texts.items()}, sort_keys=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


def publish(
    case: Case,
    update: CaseUpdate,
    actor: User,
    chosen: Mapping[Audience, set[str]],
    shown: str | None,
    address_hash: str | None,
    now: datetime | None = None,
) -> list[PublishedUpdate]:
    """Store each audience's text as confirmed and tell its organisations' people to sign
    in. Refused while an audience is embargoed, when the texts differ from those last
    shown, or when a text still names someone its audience may never read of."""
    now = now or utcnow()
    if update.published_at is not None:
        raise UpdateProblemError("publish", "This update has already been published")
    audiences = audiences_of(update)
    _refuse_embargoed(case, audiences, "publish")
    texts = previews(update, chosen)
    if shown != digest(texts):
        raise UpdateProblemError(
            "publish", "The text has changed since you last looked: check it, then publish"
        )
    facts = known(case, update)
    for audience in audiences:
        names = [t.text for t in redaction.never_for(audience, facts)]
        left = redaction.still_named(texts[audience], names)
        if left:
            raise UpdateProblemError(
                f"added_{audience.value}",
                f"The text for {audience.label.lower()} still contains "
                f"“{left[0]}”, which it may never read: take it out",
            )
    reaching = recipients(case, audiences)
    published = [
        _published_text(
            update,
            audience,
            texts[audience],
            actor,
            now,
            redactions=len(redaction.find(update.text or "", chosen.get(audience, set()))),
            organisations=reaching.get(audience, []),
        )
        for audience in audiences
    ]
    update.published_at = now
    update.published_by_id = actor.id
    told = [o for organisations in reaching.values() for o in organisations]
    readers = answerers(*told)
    if Audience.SUBJECT in audiences:
        readers += subjects.readers(case)
        # One update tells them of every meeting since the last.
        for deadline in workflow.open_deadlines(case):
            if deadline.kind == DeadlineKind.SUBJECT_UPDATE:
                deadline.met_at = now
    tell(readers, "update_published", case.authority_id, case.reference)
    audit.about_case(
        AuditKind.UPDATE_PUBLISHED,
        case,
        actor.id,
        address_hash,
        update_id=str(update.id),
        audiences=[a.value for a in audiences],
        organisations=len(told),
    )
    return published


def publish_as_written(case: Case, actor: User, audience: Audience, text: str) -> CaseUpdate:
    """Publish a text the portal wrote itself (the closure letter) to one audience as it
    is: nothing of it to redact, so no choices to confirm."""
    now = utcnow()
    update = CaseUpdate(
        id=uuid.uuid4(),
        case_id=case.id,
        authority_id=case.authority_id,
        audience_values=[audience.value],
        written_by_id=actor.id,
        published_by_id=actor.id,
        published_at=now,
    )
    update.text = text
    update.other_names = []
    _published_text(update, audience, text, actor, now, redactions=0, organisations=[])
    db.session.add(update)
    return update


def _published_text(
    update: CaseUpdate,
    audience: Audience,
    text: str,
    actor: User,
    now: datetime,
    *,
    redactions: int,
    organisations: Iterable[Organisation],
) -> PublishedUpdate:
    """One audience's text of the update, sealed, and the organisations it reaches."""
    published = PublishedUpdate(
        id=uuid.uuid4(),
        update_id=update.id,
        case_id=update.case_id,
        authority_id=update.authority_id,
        audience=audience,
        redactions=redactions,
        published_by_id=actor.id,
        published_at=now,
    )
    published.text = text
    published.recipients = [
        UpdateRecipient(
            id=uuid.uuid4(),
            published_update_id=published.id,
            case_id=update.case_id,
            authority_id=update.authority_id,
            organisation_id=organisation.id,
        )
        for organisation in organisations
    ]
    update.published.append(published)
    return published


def _refuse_embargoed(case: Case, audiences: Iterable[Audience], field_name: str) -> None:
    embargoes = standing(case)
    for audience in audiences:
        if audience in embargoes:
            raise UpdateProblemError(field_name, embargo_message(embargoes[audience]))
