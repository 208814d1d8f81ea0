"""What each audience of a published update may not read, and taking it out.

The portal proposes redactions it can know: the names of the case's children, its
referrer and any witnesses the LADO names, their addresses and dates of birth, the crime
reference, and text that looks like a postcode, a phone number, an e-mail address or a
date. Which of those each audience loses comes from one table, AUDIENCE_RULES: some are
always taken out (the subject never reads a child's or the referrer's name), the rest
are suggested and the LADO may keep them in. The LADO may also add text of their own.

Matching is case-insensitive and on whole words, so "Amy" is taken out of "amy's bag"
but not out of "Amyl". A name is also taken out word by word ("Amy Rose Smith": "Amy",
"Rose", "Smith"), as an update may use a first name alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from portal.vocabulary import LabelledEnum, labels

REDACTED = "[redacted]"


class Audience(LabelledEnum):
    REFERRER = "referrer"
    EMPLOYER = "employer"
    POLICE = "police"
    CHILDRENS_SERVICES = "childrens_services"
    INVITEES = "invitees"
    SUBJECT = "subject"


labels(
    Audience,
    {
        "referrer": "The referrer's organisation",
        "employer": "The employer",
        "police": "The police",
        "childrens_services": "Children's services",
        "invitees": "Other organisations invited to the meetings",
        "subject": "The subject",
    },
)


class Sensitive(LabelledEnum):
    """Kinds of text an audience may lose."""

    CHILD = "child"
    REFERRER = "referrer"
    WITNESS = "witness"
    ADDRESS = "address"
    DATE_OF_BIRTH = "date_of_birth"
    CRIME_REFERENCE = "crime_reference"  # police information
    POSTCODE = "postcode"
    PHONE = "phone"
    EMAIL = "email"
    DATE = "date"
    ADDED = "added"  # typed in by the LADO


labels(
    Sensitive,
    {
        "child": "A child's name",
        "referrer": "The referrer's name",
        "witness": "A witness's name",
        "address": "An address",
        "date_of_birth": "A date of birth",
        "crime_reference": "The crime reference (police information)",
        "postcode": "A postcode",
        "phone": "A phone number",
        "email": "An email address",
        "date": "A date",
        "added": "Added by you",
    },
)


@dataclass(frozen=True)
class Rule:
    always: frozenset[Sensitive] = frozenset()  # taken out, whatever the LADO chooses
    suggested: frozenset[Sensitive] = frozenset()  # taken out unless the LADO keeps it


_CONTACT = frozenset(
    {
        Sensitive.ADDRESS,
        Sensitive.DATE_OF_BIRTH,
        Sensitive.POSTCODE,
        Sensitive.PHONE,
        Sensitive.EMAIL,
    }
)

# One table: what each audience loses.
AUDIENCE_RULES: dict[Audience, Rule] = {
    # The subject never learns who the children or the referrer are, nor the witnesses.
    Audience.SUBJECT: Rule(
        always=frozenset({Sensitive.CHILD, Sensitive.REFERRER, Sensitive.WITNESS}),
        suggested=_CONTACT | {Sensitive.CRIME_REFERENCE},
    ),
    # The referrer never reads police information.
    Audience.REFERRER: Rule(
        always=frozenset({Sensitive.CRIME_REFERENCE}),
        suggested=_CONTACT | {Sensitive.WITNESS},
    ),
    Audience.EMPLOYER: Rule(
        always=frozenset({Sensitive.CRIME_REFERENCE}),
        suggested=_CONTACT | {Sensitive.WITNESS, Sensitive.CHILD},
    ),
    Audience.INVITEES: Rule(
        suggested=_CONTACT | {Sensitive.CHILD, Sensitive.WITNESS, Sensitive.CRIME_REFERENCE},
    ),
    Audience.POLICE: Rule(),
    Audience.CHILDRENS_SERVICES: Rule(),
}

# Kinds whose terms are names: taken out word by word as well as whole.
NAMES = frozenset({Sensitive.CHILD, Sensitive.REFERRER, Sensitive.WITNESS})


@dataclass(frozen=True, order=True)
class Term:
    """Text to take out, and what kind it is."""

    text: str
    kind: Sensitive = field(compare=False)


@dataclass
class Known:
    """What the case itself knows is sensitive (decrypted by the caller)."""

    children: Sequence[str] = ()
    referrers: Sequence[str] = ()
    witnesses: Sequence[str] = ()
    addresses: Sequence[str] = ()
    dates_of_birth: Sequence[date] = ()
    crime_references: Sequence[str] = ()


# Patterns for what the case does not hold as a field.
PATTERNS: dict[Sensitive, re.Pattern[str]] = {
    # A UK postcode: SW1A 1AA, M1 1AE, B33 8TH, CR2 6XH (the space optional).
    Sensitive.POSTCODE: re.compile(
        r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][ABD-HJLNP-UW-Z]{2}\b", re.I
    ),
    # A UK phone number: 020 7946 0000, 07700 900123, +44 7700 900 123, (01632) 960001.
    Sensitive.PHONE: re.compile(
        r"(?<![\w+])(?:\+44\s?\(?0?\)?\s?|\(?0)\d{2,4}\)?(?:[\s-]?\d){6,8}\b"
    ),
    Sensitive.EMAIL: re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    # 3/4/2024, 03-04-24, 3 April 2024, 3rd April, April 3 2024.
    Sensitive.DATE: re.compile(
        r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
        r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
        r"[a-z]*(?:\s+\d{4})?"
        r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\s+\d{1,2}"
        r"(?:st|nd|rd|th)?(?:,?\s+\d{4})?)\b",
        re.I,
    ),
}


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


# Words of a name that are not taken out on their own: records often call a child
# "Child A" or "Pupil B", and "the child" must still read as such.
NOT_NAMES_ALONE = frozenset(
    [
        "child",
        "children",
        "pupil",
        "student",
        "young",
        "person",
        "boy",
        "girl",
        "baby",
        "infant",
        "sibling",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "the",
        "and",
        "of",
    ]
)


def _name_terms(names: Iterable[str], kind: Sensitive) -> list[Term]:
    terms = []
    for name in names:
        name = _normal(name)
        if not name:
            continue
        terms.append(Term(name, kind))
        words = re.findall(r"[^\W\d_](?:[^\W\d_]|['’])*", name)
        if len(words) > 1:
            terms += [
                Term(word, kind)
                for word in words
                if len(word) >= 2 and word.casefold() not in NOT_NAMES_ALONE
            ]
    return terms


def _date_forms(day: date) -> list[str]:
    """How a date of birth may be written."""
    month = day.strftime("%B")
    return [
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        f"{day.day}.{day.month}.{day.year}",
        f"{day.day}-{day.month}-{day.year}",
        f"{day.day} {month} {day.year}",
        f"{day.day} {month[:3]} {day.year}",
        day.isoformat(),
    ]


def suggestions(text: str, known: Known) -> list[Term]:
    """Every term the portal would take out of ``text`` for some audience: those of the
    case's own that the text contains, then what the patterns find. One entry per text
    (the first kind found wins), by kind (children first), then longest first."""
    candidates = [
        *_name_terms(known.children, Sensitive.CHILD),
        *_name_terms(known.referrers, Sensitive.REFERRER),
        *_name_terms(known.witnesses, Sensitive.WITNESS),
        *(Term(_normal(a), Sensitive.ADDRESS) for a in known.addresses if _normal(a)),
        *(
            Term(form, Sensitive.DATE_OF_BIRTH)
            for day in known.dates_of_birth
            for form in _date_forms(day)
        ),
        *(
            Term(_normal(r), Sensitive.CRIME_REFERENCE)
            for r in known.crime_references
            if _normal(r)
        ),
    ]
    found: dict[str, Term] = {}
    for term in candidates:
        if term.text.casefold() not in found and find(text, [term.text]):
            found[term.text.casefold()] = term
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            found.setdefault(match.group().casefold(), Term(match.group(), kind))
    order = list(Sensitive)
    return sorted(found.values(), key=lambda t: (order.index(t.kind), -len(t.text), t.text))


def _pattern(texts: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({_normal(t) for t in texts if _normal(t)}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in words)
    # Whole words: no letter or digit either side (a bare \b fails beside punctuation).
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)


def find(text: str, texts: Iterable[str]) -> list[str]:
    """The places ``text`` contains any of ``texts`` as whole words, as written there."""
    pattern = _pattern(texts)
    return [m.group() for m in pattern.finditer(_normal(text))] if pattern else []


# Neighbouring redactions read as one ("[redacted] [redacted]" for a first and last name).
_NEIGHBOURS = re.compile(rf"{re.escape(REDACTED)}(?:[ \t]+{re.escape(REDACTED)})+")


def redact(text: str, texts: Iterable[str]) -> str:
    """``text`` with every whole-word occurrence of ``texts`` replaced by [redacted]."""
    pattern = _pattern(texts)
    text = _normal(text)
    return _NEIGHBOURS.sub(REDACTED, pattern.sub(REDACTED, text)) if pattern else text


def removable(audience: Audience, term: Term) -> bool:
    """Whether the LADO may keep this term in for the audience."""
    return term.kind not in AUDIENCE_RULES[audience].always


def proposed(audience: Audience, terms: Iterable[Term]) -> list[Term]:
    """The terms the audience loses unless the LADO keeps them in."""
    rule = AUDIENCE_RULES[audience]
    return [t for t in terms if t.kind in rule.always or t.kind in rule.suggested]


def _folded(text: str) -> tuple[str, list[int]]:
    """The text without accents and case, and where each of its characters came from."""
    folded, origin = [], []
    for index, character in enumerate(text):
        for part in unicodedata.normalize("NFKD", character):
            if unicodedata.combining(part):
                continue
            for piece in part.casefold():
                folded.append(piece)
                origin.append(index)
    return "".join(folded), origin


def still_named(text: str, names: Iterable[str]) -> list[str]:
    """The places ``text`` still names any of ``names``, as written there: matched
    more loosely than redaction is (accents and case ignored: "Zoe" for a child named
    "Zoë"), so that what the portal was not sure enough to take out is put to the LADO
    before it is published."""
    text = _normal(text)
    folded, origin = _folded(text)
    words = sorted({_folded(_normal(n))[0] for n in names if _normal(n)}, key=len, reverse=True)
    if not words:
        return []
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(w) for w in words)})(?!\w)")
    return [text[origin[m.start()] : origin[m.end() - 1] + 1] for m in pattern.finditer(folded)]


def never_for(audience: Audience, known: Known) -> list[Term]:
    """The names an audience must never read, whatever was chosen: checked again on the
    text about to be published."""
    rule = AUDIENCE_RULES[audience]
    return [
        term
        for term in (
            *_name_terms(known.children, Sensitive.CHILD),
            *_name_terms(known.referrers, Sensitive.REFERRER),
            *_name_terms(known.witnesses, Sensitive.WITNESS),
        )
        if term.kind in rule.always
    ]
