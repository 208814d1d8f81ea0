"""Blind indexes: normalisation, keyed digests, truncation."""

from __future__ import annotations

import datetime
import secrets

import pytest

from portal.crypto.blind_index import BlindIndex, normalise_date, normalise_email, normalise_name

PERSON = BlindIndex(
    "person.name_dob", ("name", "date_of_birth"), (normalise_name, normalise_date), bits=16
)
KEY = secrets.token_bytes(32)
DOB = datetime.date(2009, 4, 17)


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("Zoë  O'Brien-Smith", "zoe obrien smith"),
        ("  zoe   OBRIEN smith ", "zoe obrien smith"),
        ("Zoë O’Brien–Smith", "zoe obrien smith"),
        ("JOSÉ ÁLVAREZ", "jose alvarez"),
        ("Anne-Marie St. John", "anne marie st john"),
        ("Søren Łukasz Ærø", "soren lukasz aero"),
        ("Straße", "strasse"),
    ],
)
def test_names_normalise(typed: str, normal: str) -> None:
    assert normalise_name(typed) == normal


def test_the_same_person_written_differently_matches() -> None:
    assert PERSON.digest(KEY, ["Zoë  O'Brien-Smith", DOB]) == PERSON.digest(
        KEY, ["zoe obrien smith", DOB]
    )


def test_a_different_date_of_birth_does_not_match() -> None:
    assert PERSON.digest(KEY, ["Zoë O'Brien-Smith", DOB]) != PERSON.digest(
        KEY, ["Zoë O'Brien-Smith", datetime.date(2009, 4, 18)]
    )


def test_person_digests_are_truncated_to_16_bits() -> None:
    assert len(PERSON.digest(KEY, ["a b", DOB])) == 2
    ten = BlindIndex("x", ("a",), (str,), bits=10)
    digest = ten.digest(KEY, ["y"])
    assert len(digest) == 2
    assert digest[1] & 0b00111111 == 0


def test_digests_depend_on_the_key_and_the_kind() -> None:
    other_kind = BlindIndex("child.name_dob", PERSON.fields, PERSON.normalisers, bits=16)
    values = ["Zoë O'Brien-Smith", DOB]
    whole_a = BlindIndex("a", PERSON.fields, PERSON.normalisers).digest(KEY, values)
    whole_b = BlindIndex("b", PERSON.fields, PERSON.normalisers).digest(KEY, values)
    assert whole_a != whole_b
    assert whole_a != BlindIndex("a", PERSON.fields, PERSON.normalisers).digest(
        secrets.token_bytes(32), values
    )
    # Truncated to 16 bits, two kinds may share a digest by chance, but not for all these.
    samples = [[f"Person {n}", DOB] for n in range(20)]
    assert any(PERSON.digest(KEY, v) != other_kind.digest(KEY, v) for v in samples)


def test_emails_normalise_by_case_and_space() -> None:
    assert normalise_email("  Jo.Bloggs@Example.ORG ") == "jo.bloggs@example.org"


def test_emails_normalise_however_the_accent_is_composed() -> None:
    composed, decomposed = "zo\u00eb@example.org", "zoe\u0308@example.org"
    assert composed != decomposed
    assert normalise_email(composed) == normalise_email(decomposed)


def test_a_datetime_indexes_as_its_date() -> None:
    afternoon = datetime.datetime(2009, 4, 17, 13, 5, tzinfo=datetime.UTC)
    assert normalise_date(afternoon) == normalise_date(DOB)


def test_a_missing_value_never_matches() -> None:
    matches = PERSON.matcher(["Zoe", DOB])
    assert not matches({"name": None, "date_of_birth": DOB}.get)
    assert matches({"name": "ZOE", "date_of_birth": DOB}.get)
