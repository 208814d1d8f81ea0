"""The closure letter to the subject: the outcome and what it means, how long the records
are kept, the authority's privacy notice and how to ask for a copy of what is held (a
subject access request). Drawn as a page to print and as a PDF; a subject with an
account finds it with their updates when the case is closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF

from portal.formatting import long_date
from portal.meetings.service import tell
from portal.models import Authority, Case, CaseUpdate, User, utcnow
from portal.redaction import Audience
from portal.subjects import service as subjects
from portal.updates import service as updates
from portal.vocabulary import OUTCOME_DEFINITIONS, Outcome
from portal.workdays import uk_date

log = logging.getLogger(__name__)

# A font with every letter of a name in it (Debian's fonts-dejavu-core); without it the
# PDF falls back to the built-in Latin-1 font.
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@dataclass(frozen=True)
class Letter:
    reference: str
    dated: date
    to: str
    paragraphs: list[tuple[str | None, str]]  # (heading, text)
    signed: str
    authority: str


def letter(case: Case, authority: Authority, signed_by: User, today: date | None = None) -> Letter:
    if case.outcome is None or case.retained_until is None:
        raise ValueError("a closure letter needs the outcome")
    outcome = Outcome(case.outcome)
    received = long_date(case.received_at) if case.received_at else "when it was received"
    contact = authority.contact_email or f"{authority.display_name}'s LADO team"
    paragraphs: list[tuple[str | None, str]] = [
        (
            None,
            f"I am writing to tell you that the allegation about you, which "
            f"{authority.display_name}'s Local Authority Designated Officer (LADO) received "
            f"on {received}, has been concluded.",
        ),
        ("The outcome", f"{outcome.label}. {OUTCOME_DEFINITIONS[outcome]}"),
    ]
    if case.remove_from_personnel_records:
        paragraphs.append(
            (
                None,
                "As the allegation was found to be malicious, it will be removed from "
                "your personnel records.",
            )
        )
    paragraphs += [
        (
            "How long the records are kept",
            f"We keep the records of this allegation until {long_date(case.retained_until)}: "
            "until you reach State Pension age, or for 10 years from the date of the "
            "allegation, whichever is longer, as Keeping Children Safe in Education "
            "requires. They are then destroyed.",
        ),
        (
            "How we use your information",
            f"Our privacy notice explains how we use and protect it: "
            f"{authority.privacy_notice_url}",
        ),
        (
            "Seeing what we hold about you",
            "You may ask for a copy of the information we hold about you (a subject access "
            f"request) by writing to {contact}. We will reply within one month.",
        ),
    ]
    subject = case.subject
    return Letter(
        reference=case.reference or "",
        dated=today or uk_date(utcnow()),
        to=subject.full_name if subject and subject.full_name else "the subject",
        paragraphs=paragraphs,
        signed=signed_by.full_name,
        authority=authority.display_name,
    )


def as_text(found: Letter) -> str:
    """The letter as the subject reads it among their updates."""
    body = "\n\n".join(
        f"{heading}: {text}" if heading else text for heading, text in found.paragraphs
    )
    return (
        f"Dear {found.to},\n\nYour case {found.reference}\n\n{body}\n\nYours sincerely,\n"
        f"{found.signed}\nLocal Authority Designated Officer, {found.authority}"
    )


def as_pdf(found: Letter) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    if UNICODE_FONT.exists():
        pdf.add_font("letter", fname=str(UNICODE_FONT))
        pdf.add_font("letter", style="B", fname=str(UNICODE_FONT.with_name("DejaVuSans-Bold.ttf")))
        family = "letter"
    else:
        log.warning("No %s: the closure letter's PDF uses a Latin-1 font", UNICODE_FONT)
        family = "helvetica"

    def write(text: str, size: int = 11, style: str = "", gap: float = 4) -> None:
        if family == "helvetica":
            text = text.encode("latin-1", "replace").decode("latin-1")
        pdf.set_font(family, style=style, size=size)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    write(found.authority, size=14, style="B")
    write("OFFICIAL-SENSITIVE", size=9)
    write(long_date(found.dated))
    write(f"Dear {found.to},")
    write(f"Your case {found.reference}", style="B")
    for heading, text in found.paragraphs:
        if heading:
            write(heading, style="B", gap=1)
        write(text)
    write(
        f"Yours sincerely,\n\n{found.signed}\nLocal Authority Designated Officer\n{found.authority}"
    )
    return bytes(pdf.output())


def publish_to_subject(case: Case, found: Letter, actor: User) -> CaseUpdate | None:
    """On closing: the letter among the subject's updates, if they have an account."""
    readers = subjects.readers(case)
    if not readers:
        return None
    update = updates.publish_as_written(case, actor, Audience.SUBJECT, as_text(found))
    tell(readers, "update_published", case.authority_id, case.reference)
    return update
