"""The password policy and hashing, on their own."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.auth import passwords


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-pass", "12 characters or more"),
        ("a" * 129, "128 characters or fewer"),
        ("password1234", "too common"),
        ("qwertyuiopasdfgh", "harder to guess"),
        ("111111111111", "harder to guess"),
        ("jo.bloggs-rules-2026", "must not contain your name or email address"),
    ],
)
def test_refused_passwords(password: str, problem: str) -> None:
    message = passwords.password_problem(password, personal=("jo.bloggs@test.example", "Jo Bloggs"))
    assert message is not None
    assert problem in message


@pytest.mark.parametrize(
    "password",
    [
        "velvet-compass-orchard-19",
        "three random words here",
        "é" * 12 + "ñandú-piñata",
        "x" * 4 + "Lq9#vT2!mZ8@",
    ],
)
def test_accepted_passwords(password: str) -> None:
    assert passwords.password_problem(password, personal=("jo.bloggs@test.example",)) is None


def test_128_characters_are_accepted() -> None:
    long = ("sunset-harbour-lantern-" * 6)[:128]
    assert len(long) == 128
    assert passwords.password_problem(long) is None


def test_hashes_are_argon2id_and_verify(app: Flask) -> None:
    with app.app_context():
        hashed = passwords.hash_password("velvet-compass-orchard-19")
        assert hashed.startswith("$argon2id$")
        assert passwords.verify_password(hashed, "velvet-compass-orchard-19")
        assert not passwords.verify_password(hashed, "velvet-compass-orchard-18")
        assert not passwords.verify_password(None, "anything")
        assert not passwords.verify_password("not a hash", "anything")
