"""The redaction rules on their own: what the portal suggests from the case's fields and
from patterns, what each audience loses, and a property: whatever the LADO keeps in,
the subject's text never names a child, the referrer or a witness."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from portal.redaction import (
    AUDIENCE_RULES,
    NOT_NAMES_ALONE,
    REDACTED,
    Audience,
    Known,
    Sensitive,
    never_for,
    proposed,
    redact,
    removable,
    still_named,
    suggestions,
)

KNOWN = Known(
    children=["Amy-Rose Smith"],
    referrers=["Jo Bloggs"],
    witnesses=["Carl Jones"],
    addresses=["12 High Street, Canaryton"],
    dates_of_birth=[date(2015, 3, 4)],
    crime_references=["CR/123/24"],
)
TEXT = (
    "Amy said Mr X hit her. amy-rose smith lives at 12 High Street, Canaryton, BR1 3AA. "
    "Jo Bloggs (jo@school.example, 07700 900123, +44 20 7946 0000) reported it on "
    "3 April 2024. Carl saw it. Police ref CR/123/24. DOB 4/3/2015. Amyl nitrate."
)


def _kinds() -> dict[str, Sensitive]:
    return {term.text: term.kind for term in suggestions(TEXT, KNOWN)}


def test_suggestions_come_from_the_cases_fields_and_from_patterns() -> None:
    kinds = _kinds()
    assert kinds["Amy-Rose Smith"] == Sensitive.CHILD
    assert kinds["Amy"] == Sensitive.CHILD  # a first name alone
    assert kinds["Jo Bloggs"] == Sensitive.REFERRER
    assert kinds["Carl"] == Sensitive.WITNESS
    assert kinds["12 High Street, Canaryton"] == Sensitive.ADDRESS
    assert kinds["4/3/2015"] == Sensitive.DATE_OF_BIRTH
    assert kinds["CR/123/24"] == Sensitive.CRIME_REFERENCE
    assert kinds["BR1 3AA"] == Sensitive.POSTCODE
    assert kinds["07700 900123"] == Sensitive.PHONE
    assert kinds["+44 20 7946 0000"] == Sensitive.PHONE
    assert kinds["jo@school.example"] == Sensitive.EMAIL
    assert kinds["3 April 2024"] == Sensitive.DATE
    assert "Amyl" not in kinds  # whole words only
    assert "Smith" in kinds
    assert "Rose" in kinds


def test_each_audience_loses_what_its_rule_says() -> None:
    terms = suggestions(TEXT, KNOWN)

    def published(audience: Audience) -> str:
        return redact(TEXT, [t.text for t in proposed(audience, terms)])

    subject = published(Audience.SUBJECT)
    for name in ("Amy", "Smith", "Jo Bloggs", "Carl", "CR/123/24", "BR1 3AA"):
        assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", subject, re.IGNORECASE)
    assert "Amyl nitrate" in subject
    assert "3 April 2024" in subject  # dates are suggested to nobody by default
    referrer = published(Audience.REFERRER)
    assert "CR/123/24" not in referrer  # never police information
    assert "Jo Bloggs" in referrer
    assert published(Audience.POLICE) == TEXT  # the police read it all
    # What a rule always takes out cannot be kept in; what it suggests can.
    child = next(t for t in terms if t.text == "Amy")
    assert not removable(Audience.SUBJECT, child)
    assert removable(Audience.EMPLOYER, child)
    assert Sensitive.CHILD in AUDIENCE_RULES[Audience.SUBJECT].always
    assert Sensitive.CRIME_REFERENCE in AUDIENCE_RULES[Audience.REFERRER].always


def test_a_child_recorded_as_child_a_leaves_the_word_child_alone() -> None:
    known = Known(children=["Child A"])
    text = "The child, Child A, told a teacher."
    terms = suggestions(text, known)
    assert redact(text, [t.text for t in proposed(Audience.SUBJECT, terms)]) == (
        "The child, [redacted], told a teacher."
    )


def test_neighbouring_redactions_read_as_one() -> None:
    assert redact("Jo Bloggs Smith came", ["Jo", "Bloggs", "Smith"]) == "[redacted] came"


def test_the_last_check_finds_a_name_written_without_its_accent() -> None:
    assert still_named("Zoe went home; ZOË did too; Zoeland", ["Zoë"]) == ["Zoe", "ZOË"]
    assert still_named("Nothing here", ["Zoë"]) == []


# The property: random cases and texts that contain their names.

LETTERS = "abcdefghijklmnopqrstuvwxyzéèöüñçåø"
word = st.text(alphabet=LETTERS, min_size=2, max_size=9)
name = st.lists(word, min_size=1, max_size=3).map(lambda parts: " ".join(p.title() for p in parts))
filler = st.text(alphabet=LETTERS + "0123456789 ,.;:!?()\n'-", max_size=40)
styled = st.sampled_from([str, str.upper, str.lower, str.title])


@given(
    children=st.lists(name, min_size=1, max_size=3),
    referrer=name,
    witnesses=st.lists(name, max_size=2),
    pieces=st.lists(
        st.tuples(filler, st.integers(min_value=0, max_value=20), styled), min_size=1, max_size=8
    ),
    kept=st.sets(st.integers(min_value=0, max_value=40)),
    data=st.data(),
)
def test_the_subject_never_reads_a_childs_the_referrers_or_a_witnesss_name(
    children: list[str],
    referrer: str,
    witnesses: list[str],
    pieces: list[tuple[str, int, object]],
    kept: set[int],
    data: st.DataObject,
) -> None:
    names = [*children, referrer, *witnesses]
    # The update: filler with the names (whole, or one word of them) in any case.
    parts = []
    for text, which, style in pieces:
        chosen = names[which % len(names)]
        if which % 2:
            chosen = data.draw(st.sampled_from(chosen.split(" ")))
        parts += [text, " ", style(chosen), " "]  # type: ignore[operator]
    update = "".join(parts)
    known = Known(children=children, referrers=[referrer], witnesses=witnesses)
    terms = suggestions(update, known)
    # The LADO keeps in any suggestions they like: only those the rule lets them.
    kept_in = {t.text for i, t in enumerate(terms) if i in kept and removable(Audience.SUBJECT, t)}
    published = redact(
        update, [t.text for t in proposed(Audience.SUBJECT, terms) if t.text not in kept_in]
    )
    # No name, nor any word of one, is left as written. What the looser last check would
    # still put to the LADO (refusing to publish) is only another spelling: "aå" for "Aa".
    written = {t.text.casefold() for t in never_for(Audience.SUBJECT, known)}
    for found in still_named(published, list(written)):
        assert found.casefold() not in written, (found, published)
    for full in names:
        for piece in [full, *full.split(" ")]:
            if piece != full and (len(piece) < 2 or piece.casefold() in NOT_NAMES_ALONE):
                continue
            found = re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", published, re.IGNORECASE)
            assert found is None, (piece, published)
    assert REDACTED in published
