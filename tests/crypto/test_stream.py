"""Files sealed in chunks: whole, and every way of damaging them."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.crypto.envelope import DecryptionError
from portal.crypto.stream import HEADER, open_stream, seal_stream

DATA_KEY = os.urandom(32)
CHUNK = 1024


def cipher_for(key_id: int, salt: bytes) -> AESGCM:
    """A key per file, from the salt in its header (the key manager uses HKDF)."""
    return AESGCM(hashlib.sha256(DATA_KEY + salt).digest())


def sealed(data: bytes, bound: bytes = b"attachments|file|1") -> list[bytes]:
    parts = [data[i : i + 700] for i in range(0, len(data), 700)] or [b""]
    return list(seal_stream(cipher_for, 3, parts, bound, chunk_size=CHUNK))


def opened(parts: list[bytes], bound: bytes = b"attachments|file|1") -> bytes:
    return b"".join(open_stream(cipher_for, parts, bound, "attachments.file of row 1"))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 10_000])
def test_round_trip(size: int) -> None:
    data = os.urandom(size)
    assert opened(sealed(data)) == data


def test_twenty_megabytes_round_trip_in_default_chunks() -> None:
    data = os.urandom(20 * 1024 * 1024)
    parts = list(seal_stream(cipher_for, 3, [data], b"x"))
    assert b"".join(open_stream(cipher_for, parts, b"x", "x")) == data


def damage(name: str, parts: list[bytes]) -> list[bytes]:
    header, chunks = parts[0], parts[1:]
    if name == "cut":
        return [header, *chunks[:-1]]
    if name == "reorder":
        return [header, chunks[1], chunks[0], *chunks[2:]]
    if name == "repeat":
        return [header, chunks[0], *chunks]
    if name == "extend":
        return [*parts, chunks[1]]
    if name == "chunk size":
        changed = bytearray(header)
        changed[-4:] = (2**31).to_bytes(4, "big")
        return [bytes(changed), *chunks]
    if name == "flip":
        first = bytearray(chunks[0])
        first[10] ^= 1
        return [header, bytes(first), *chunks[1:]]
    if name == "header":
        changed = bytearray(header)
        changed[7] ^= 1
        return [bytes(changed), *chunks]
    raise AssertionError(name)


@pytest.mark.parametrize(
    "name", ["cut", "reorder", "repeat", "extend", "flip", "header", "chunk size"]
)
def test_damage_is_detected(name: str) -> None:
    parts = sealed(os.urandom(3 * CHUNK + 10))
    with pytest.raises(DecryptionError, match=r"attachments\.file of row 1"):
        opened(damage(name, parts))


def test_a_file_from_another_row_does_not_open() -> None:
    with pytest.raises(DecryptionError):
        opened(sealed(b"some file"), bound=b"attachments|file|2")


def test_a_truncated_header() -> None:
    with pytest.raises(DecryptionError, match="truncated"):
        opened([sealed(b"x")[0][: HEADER.size - 1]])


def test_two_files_never_share_a_key_and_nonce() -> None:
    """The same content twice: different salts, so different keys and ciphertexts."""
    first, second = sealed(b"same"), sealed(b"same")
    assert first[0][5:21] != second[0][5:21]  # the salts
    assert first[1] != second[1]
