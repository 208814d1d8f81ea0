"""Blind indexes: find a value without decrypting every row.

A blind index is a keyed HMAC-SHA256 (under an index key from the keyring, never an
encryption key) of a normalised value. Equal values give equal digests, so "is there an
account with this e-mail?" or "has this person been referred before?" becomes an
indexed look-up.

Digests of people (name and date of birth) are *truncated*: with 16 bits, a million
people fall into 65,536 buckets of about 15. A stolen database then shows fuzzy buckets,
not exact clusters of one person's records; a match is confirmed by decrypting the few
candidates. E-mail addresses are unique account keys, so theirs are kept whole.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.crypto.keyring import Keyring

APOSTROPHES = "'’‘`´"
# Letters that Unicode does not decompose into a plain letter and an accent, written the
# way people type them on an English keyboard ("Søren Łukasz" as "Soren Lukasz").
LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"}
)


def normalise_name(value: str) -> str:
    """Case-folded, accents and punctuation removed, white space collapsed:
    "Zoë  O'Brien-Smith" and "zoe obrien smith" become the same."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.translate(LETTERS).translate({ord(c): None for c in APOSTROPHES})
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def normalise_email(value: str) -> str:
    """Composed the same way (NFKC), case-folded, trimmed."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def normalise_date(value: datetime.date | str) -> str:
    """ISO 8601; a datetime counts as its date."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, datetime.date) else str(value).strip()


@dataclass(frozen=True)
class BlindIndex:
    """One index over one or more fields of a model."""

    kind: str
    fields: tuple[str, ...]
    normalisers: tuple[Callable[[Any], str], ...]
    bits: int | None = None  # None keeps all 256 bits
    unique: bool = False

    def message(self, values: Sequence[Any]) -> bytes:
        return "\x1f".join(n(v) for n, v in zip(self.normalisers, values, strict=True)).encode()

    def digest(self, key: bytes, values: Sequence[Any]) -> bytes:
        full = hmac.new(_kind_key(key, self.kind), self.message(values), hashlib.sha256).digest()
        if self.bits is None:
            return full
        whole, extra = divmod(self.bits, 8)
        if extra:
            return full[:whole] + bytes([full[whole] & (0xFF << (8 - extra)) & 0xFF])
        return full[:whole]

    def digests(self, keyring: Keyring, values: Sequence[Any]) -> list[tuple[int, bytes]]:
        """A digest under every index key in the keyring (both, during a rotation)."""
        return [(key.id, self.digest(key.material, values)) for key in keyring.index]

    def ordered(self, values: Mapping[str, Any]) -> list[Any]:
        """Values by field name, in the index's order; every field and no other."""
        if set(values) != set(self.fields):
            raise TypeError(f"{self.kind} takes exactly {', '.join(self.fields)}")
        return [values[field] for field in self.fields]

    def matcher(self, values: Sequence[Any]) -> Callable[[Callable[[str], Any]], bool]:
        """A test of whether a candidate's decrypted fields (``read(field name)``) equal
        the values, once normalised. Fields are compared in the order declared and the
        first difference stops it, so only the fields needed are decrypted: declare the
        most telling one first."""
        wanted = [
            (field, normalise, normalise(value))
            for field, normalise, value in zip(self.fields, self.normalisers, values, strict=True)
        ]

        def matches(read: Callable[[str], Any]) -> bool:
            for field, normalise, value in wanted:
                found = read(field)
                if found is None or normalise(found) != value:
                    return False
            return True

        return matches


@lru_cache(maxsize=256)
def _kind_key(key: bytes, kind: str) -> bytes:
    """Each index kind gets its own key, so digests of different kinds never compare."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"blind index v1\x1f{kind}".encode()
    ).derive(key)
