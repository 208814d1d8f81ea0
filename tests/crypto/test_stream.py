"""Files sealed in chunks: whole, and every way of damaging them."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.crypto.envelope import DecryptionError
from portal.crypto.stream import HEADER, open_stream, seal_stream

KEY = AESGCM(AESGCM.generate_key(256))
CHUNK = 1024


def sealed(data: bytes, bound: bytes = b"attachments|file|1") -> list[bytes]:
    parts = [data[i : i + 700] for i in range(0, len(data), 700)] or [b""]
    return list(seal_stream(KEY, 3, parts, bound, chunk_size=CHUNK))


def opened(parts: list[bytes], bound: bytes = b"attachments|file|1") -> bytes:
    return b"".join(open_stream(lambda key_id: KEY, parts, bound, "attachments.file of row 1"))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 10_000])
def test_round_trip(size: int) -> None:
    data = os.urandom(size)
    assert opened(sealed(data)) == data


def test_twenty_megabytes_round_trip_in_default_chunks() -> None:
    data = os.urandom(20 * 1024 * 1024)
    parts = list(seal_stream(KEY, 3, [data], b"x"))
    assert b"".join(open_stream(lambda key_id: KEY, parts, b"x", "x")) == data


def damage(name: str, parts: list[bytes]) -> list[bytes]:
    header, chunks = parts[0], parts[1:]
    if name == "cut":
        return [header, *chunks[:-1]]
    if name == "reorder":
        return [header, chunks[1], chunks[0], *chunks[2:]]
    if name == "repeat":
        return [header, chunks[0], *chunks]
    if name == "flip":
        first = bytearray(chunks[0])
        first[10] ^= 1
        return [header, bytes(first), *chunks[1:]]
    if name == "header":
        changed = bytearray(header)
        changed[7] ^= 1
        return [bytes(changed), *chunks]
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["cut", "reorder", "repeat", "flip", "header"])
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
