"""The referral form's work: starting a case, saving its pages (or keeping what was
typed), the children and files, the checks before sending, sending, and deleting drafts.

Functions take the acting user and the case explicitly and never read the request; views
reach cases only through portal.access's scoped look-ups. Every change is audited in the
same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

from sqlalchemy import select

from portal import audit, files, keystore, notify, workflow
from portal.crypto.keys import KeyOwner
from portal.extensions import db
from portal.formatting import long_date
from portal.models import (
    AuditKind,
    Authority,
    Case,
    CaseAttachment,
    CaseStatus,
    Child,
    DeadlineKind,
    Organisation,
    StoredFile,
    User,
    utcnow,
)
from portal.referrals import forms, uploads
from portal.referrals.sections import ATTACHMENTS, CHILDREN, Section
from portal.vocabulary import Answer, ChildGender, SourceType
from portal.workdays import uk_date, working_days_between

DRAFT_LIFETIME = timedelta(days=30)
DRAFT_WARNING = timedelta(days=7)  # before deletion
MINIMUM_NOTICE = timedelta(days=1)  # between warning and deletion, even if a run was missed
# What is kept of a page's answers as typed: what the form posts, bounded (Flask limits
# the whole form to 500 KB already).
ANSWER_MAX_LENGTH = 20000
MAX_VALUES = 50  # names per page, values per name: more than any page has
REPORTING_WORKING_DAYS = 1  # the referrer tells the LADO within 1 working day of knowing


class SectionStatus:
    COMPLETED = "Completed"
    IN_PROGRESS = "In progress"
    NOT_STARTED = "Not yet started"
    OPTIONAL = "Optional"


def owner_of(case: Case) -> KeyOwner:
    return KeyOwner.case(case.id, case.authority_id)


# Starting


def start_referral(
    user: User, organisation: Organisation, authority: Authority, address_hash: str | None
) -> Case:
    """A partner's new draft to an authority."""
    case = Case(
        id=uuid.uuid4(),
        authority_id=authority.id,
        organisation_id=organisation.id,
        source_type=SourceType.of(organisation.type),
        created_by_id=user.id,
    )
    db.session.add(case)
    _audit(AuditKind.CASE_STARTED, user, case, address_hash)
    db.session.commit()
    return case


def start_contact(user: User, authority: Authority, address_hash: str | None) -> Case:
    """A contact the LADO's team logs (a phone call, an e-mail, a letter)."""
    case = Case(id=uuid.uuid4(), authority_id=authority.id, created_by_id=user.id, logged=True)
    db.session.add(case)
    _audit(AuditKind.CASE_STARTED, user, case, address_hash, logged=True)
    db.session.commit()
    return case


# Saving pages


def section_status(case: Case, section: Section) -> str:
    if section is ATTACHMENTS:
        return SectionStatus.COMPLETED if case.attachments else SectionStatus.OPTIONAL
    if kept_answers(case, section.key) is not None:
        return SectionStatus.IN_PROGRESS
    if is_complete(case, section):
        return SectionStatus.COMPLETED
    if section is CHILDREN and case.children_involved is not None:
        return SectionStatus.IN_PROGRESS
    return SectionStatus.NOT_STARTED


def is_complete(case: Case, section: Section) -> bool:
    if section is ATTACHMENTS:
        return True
    if section is CHILDREN:
        return case.children_involved == Answer.NO or (
            case.children_involved == Answer.YES and bool(case.children)
        )
    return section.key in case.completed_sections


def save_section(
    user: User, case: Case, section: Section, form: forms.SectionForm, address_hash: str | None
) -> None:
    """Write a page's checked answers to the case; the section is then complete."""
    section.store(case, form)
    _forget_kept(case, section.key)
    if section.key not in case.completed_sections:
        case.completed_sections = [*case.completed_sections, section.key]
    _touch(case)
    _audit(AuditKind.CASE_SECTION_SAVED, user, case, address_hash, section=section.key)
    db.session.commit()


def keep_answers(
    user: User | None,
    case: Case,
    key: str,
    posted: dict[str, list[str]],
    address_hash: str | None,
    *,
    why: str,
) -> None:
    """Keep what was typed on a page, as typed, to show again there: when someone saves
    to come back later, when what they typed has errors, or when their session ran out
    as they sent it. Nothing of it counts as an answer until the page is saved."""
    names = [name for name in posted if name not in ("csrf_token", "submit", "action")]
    kept = {
        name: [str(value)[:ANSWER_MAX_LENGTH] for value in posted[name][:MAX_VALUES]]
        for name in names[:MAX_VALUES]
    }
    case.unsaved_answers = {**(case.unsaved_answers or {}), key: kept}
    _touch(case)
    _audit(
        AuditKind.CASE_ANSWERS_KEPT,
        user,
        case,
        address_hash,
        section=key,
        why=why,
    )
    db.session.commit()


def kept_answers(case: Case, key: str) -> dict[str, list[str]] | None:
    found = (case.unsaved_answers or {}).get(key)
    return found if isinstance(found, dict) else None


def _forget_kept(case: Case, key: str) -> None:
    unsaved = dict(case.unsaved_answers or {})
    if unsaved.pop(key, None) is not None:
        case.unsaved_answers = unsaved or None


def _touch(case: Case) -> None:
    case.updated_at = utcnow()
    case.expiry_warned_at = None


# The children


def set_children_involved(
    user: User, case: Case, involved: Answer, address_hash: str | None
) -> None:
    case.children_involved = involved
    _touch(case)
    _audit(AuditKind.CASE_SECTION_SAVED, user, case, address_hash, section="children")
    db.session.commit()


def child_of(case: Case, child_id: uuid.UUID) -> Child | None:
    return next((child for child in case.children if child.id == child_id), None)


def save_child(
    user: User, case: Case, child: Child | None, form: forms.ChildForm, address_hash: str | None
) -> Child:
    kept_key = f"child-{child.id}" if child else "child-new"
    if child is None:
        # The case's id is set now, not at flush: sealing the child's fields needs it.
        child = Child(
            id=uuid.uuid4(),
            case_id=case.id,
            authority_id=case.authority_id,
            position=len(case.children),
        )
        case.children.append(child)
    child.name = form.name.data.strip()
    child.date_of_birth = form.date_of_birth.data
    age = (form.age.data or "").strip()
    child.age = int(age) if age and form.date_of_birth.data is None else None
    child.gender = ChildGender(form.gender.data).value
    child.setting = (form.setting.data or "").strip() or None
    child.special_needs = Answer(form.special_needs.data)
    child.known_to_social_care = Answer(form.known_to_social_care.data)
    child.words = (form.words.data or "").strip() or None
    case.children_involved = Answer.YES
    _forget_kept(case, kept_key)
    _touch(case)
    _audit(AuditKind.CASE_SECTION_SAVED, user, case, address_hash, section="child")
    db.session.commit()
    return child


def child_data(child: Child) -> dict[str, Any]:
    return {
        "name": child.name,
        "date_of_birth": child.date_of_birth,
        "age": "" if child.age is None else str(child.age),
        "gender": child.gender,
        "setting": child.setting,
        "special_needs": child.special_needs.value if child.special_needs else None,
        "known_to_social_care": child.known_to_social_care.value
        if child.known_to_social_care
        else None,
        "words": child.words,
    }


def remove_child(user: User, case: Case, child: Child, address_hash: str | None) -> None:
    case.children.remove(child)
    for position, remaining in enumerate(case.children):
        remaining.position = position
    _touch(case)
    _audit(AuditKind.CASE_SECTION_SAVED, user, case, address_hash, section="child_removed")
    db.session.commit()


# Files


def add_attachment(
    user: User,
    case: Case,
    stream: IO[bytes],
    filename: str | None,
    address_hash: str | None,
) -> CaseAttachment:
    """Check the file by its content and store it sealed under the case's key.
    UploadRefusedError says why a file is refused; nothing of it is kept then."""
    if len(case.attachments) >= uploads.MAX_FILES:
        raise uploads.UploadRefusedError(uploads.TOO_MANY)
    stored = uploads.store_checked(owner_of(case), stream, filename)
    attachment = CaseAttachment(
        id=uuid.uuid4(),
        case_id=case.id,  # now, not at flush: sealing the name needs the case's key
        authority_id=case.authority_id,
        file_id=stored.file.id,
        filename=stored.filename,
        media_type=stored.media_type,
        size=stored.file.size,
        uploaded_by_id=user.id,
    )
    case.attachments.append(attachment)
    _touch(case)
    db.session.flush()
    _audit(AuditKind.ATTACHMENT_ADDED, user, case, address_hash, attachment=attachment.id)
    db.session.commit()
    return attachment


def attachment_of(case: Case, attachment_id: uuid.UUID) -> CaseAttachment | None:
    return next((a for a in case.attachments if a.id == attachment_id), None)


def remove_attachment(
    user: User, case: Case, attachment: CaseAttachment, address_hash: str | None
) -> None:
    stored = db.session.get(StoredFile, attachment.file_id)
    case.attachments.remove(attachment)
    db.session.flush()
    if stored is not None:
        files.delete_file(stored)
    _touch(case)
    _audit(AuditKind.ATTACHMENT_REMOVED, user, case, address_hash, attachment=attachment.id)
    db.session.commit()


def open_attachment(
    user: User, case: Case, attachment: CaseAttachment, address_hash: str | None
) -> IO[bytes]:
    """The whole file, checked, for a download (audited)."""
    stored = db.session.get_one(StoredFile, attachment.file_id)
    opened = files.open_verified(stored)
    _audit(AuditKind.ATTACHMENT_DOWNLOADED, user, case, address_hash, attachment=attachment.id)
    db.session.commit()
    return opened


# Checking and sending


@dataclass(frozen=True)
class Problem:
    """Something to put right before sending, and where."""

    text: str
    section: str
    anchor: str = ""


def problems(case: Case, sections: Sequence[Section], today: date) -> list[Problem]:
    """Everything that stops the case being sent: unfinished sections, answers kept but
    not saved, and what only shows when the sections are read together."""
    found = []
    for section in sections:
        if kept_answers(case, section.key) is not None:
            found.append(
                Problem(f"{section.title}: you have answers that are not saved yet", section.key)
            )
        elif not is_complete(case, section):
            found.append(Problem(f"{section.title}: this section is not finished", section.key))
    when = case.incident_on or case.became_aware_on or today
    for number, child in enumerate(case.children, start=1):
        if child.date_of_birth and _age_on(child.date_of_birth, when) >= 18:
            found.append(
                Problem(
                    f"Child {number} was 18 or over on {long_date(when)}: check their date of "
                    "birth or the date it happened",
                    CHILDREN.key,
                    str(child.id),
                )
            )
    if (
        case.became_aware_on
        and working_days_between(case.became_aware_on, today) > REPORTING_WORKING_DAYS
        and not case.late_reason
        and not case.logged
    ):
        found.append(
            Problem(
                "What happened: tell us why this is being reported more than 1 working day "
                "after you became aware",
                "what-happened",
                "late_reason",
            )
        )
    return found


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def submit(user: User, case: Case, sections: Sequence[Section], address_hash: str | None) -> bool:
    """Send the case to the LADO. False if it had already been sent (nothing happens
    again); ValueError if it has problems (the page shows them first)."""
    now = utcnow()
    if problems(case, sections, uk_date(now)):
        raise ValueError("the case has problems to put right before it is sent")
    if not workflow.submit(case, user.id, now=now):
        db.session.rollback()
        return False
    _audit(AuditKind.CASE_SUBMITTED, user, case, address_hash, reference=case.reference)
    if not case.logged:  # a partner's referral: acknowledged by e-mail
        notify.queue_email(
            "referral_received",
            user.email,
            related_user_id=user.id,
            full_name=user.full_name,
            reference=case.reference,
            respond_by=long_date(response_due(case)),
            sign_in_url=notify.absolute_url("auth.sign_in"),
        )
    db.session.commit()
    return True


def response_due(case: Case) -> date:
    """The day by which the LADO responds to the referrer (the response deadline's rule)."""
    rule = workflow.DEADLINE_RULES[DeadlineKind.RESPONSE]
    return uk_date(rule.timescale.due(case.received_at or utcnow()))


# Drafts


def delete_draft(user: User | None, case: Case, address_hash: str | None, *, why: str) -> None:
    """Delete a draft and everything in it; its key is destroyed too, so nothing of it
    can be read from a backup either."""
    if case.status != CaseStatus.DRAFT:
        raise ValueError("only a draft can be deleted")
    file_ids = [attachment.file_id for attachment in case.attachments]
    kind = AuditKind.CASE_DRAFT_DELETED if why == "deleted" else AuditKind.CASE_DRAFT_EXPIRED
    _audit(kind, user, case, address_hash)
    db.session.delete(case)
    db.session.flush()
    for file_id in file_ids:
        stored = db.session.get(StoredFile, file_id)
        if stored is not None:
            files.delete_file(stored)
    manager = keystore.keys()
    key_id = manager.existing_primary_key_id(owner_of(case))
    if key_id is not None:
        manager.destroy(key_id)
    db.session.commit()


def draft_deleted_on(case: Case) -> date:
    """The day an untouched draft is deleted (at the earliest)."""
    return uk_date(case.updated_at + DRAFT_LIFETIME)


def expire_drafts(now: datetime | None = None) -> tuple[int, int]:
    """Warn the people who started drafts untouched for 23 days, and delete those
    untouched for 30 (and warned). Returns (warned, deleted). Idempotent: run it hourly."""
    now = now or utcnow()
    warned = deleted = 0
    stale = select(Case).where(
        Case.status == CaseStatus.DRAFT, Case.updated_at < now - (DRAFT_LIFETIME - DRAFT_WARNING)
    )
    for case in db.session.scalars(stale).all():
        if case.expiry_warned_at is None:
            _warn_of_expiry(case, now)
            warned += 1
        elif (
            case.updated_at < now - DRAFT_LIFETIME and case.expiry_warned_at <= now - MINIMUM_NOTICE
        ):
            delete_draft(None, case, None, why="expired")
            deleted += 1
    return warned, deleted


def _warn_of_expiry(case: Case, now: datetime) -> None:
    creator = db.session.get_one(User, case.created_by_id)
    case.expiry_warned_at = now
    _audit(AuditKind.CASE_DRAFT_EXPIRY_WARNED, None, case, None)
    notify.queue_email(
        "draft_expiring",
        creator.email,
        related_user_id=creator.id,
        full_name=creator.full_name,
        started=long_date(uk_date(case.created_at)),
        deleted_after=long_date(
            uk_date(max(now + MINIMUM_NOTICE, case.updated_at + DRAFT_LIFETIME))
        ),
        sign_in_url=notify.absolute_url("auth.sign_in"),
    )
    db.session.commit()


# Audit


def _audit(
    kind: AuditKind,
    user: User | None,
    case: Case,
    address_hash: str | None,
    **detail: Any,
) -> None:
    audit.about_case(kind, case, user.id if user else None, address_hash, **detail)


def record_list_view(
    user: User, organisation: Organisation, count: int, address_hash: str | None
) -> None:
    """A list of an organisation's referrals names people: its views are audited too."""
    audit.record(
        AuditKind.CASES_LISTED,
        actor_id=user.id,
        organisation_id=organisation.id,
        address_hash=address_hash,
        shown=count,
    )
    db.session.commit()


def note_view(user: User, case: Case, page: str, address_hash: str | None) -> None:
    """Every view of a case is audited: the event, for the caller to commit once the page
    is drawn (``pages.drawn_then_committed``: a commit before would expire every row the
    page is about to show)."""
    _audit(AuditKind.CASE_VIEWED, user, case, address_hash, page=page)
