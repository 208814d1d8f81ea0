"""Files (attachments) sealed in chunks, so a 20 MB file is never held in memory twice
and a damaged, truncated, extended, reordered or swapped chunk is detected.

    header: version (1) | key id (4) | salt (16) | chunk size (4)
    then chunks, each AES-256-GCM ciphertext and tag

Each file is sealed under its own key, derived from the data key with the header's
random salt, so the chunk nonces can simply count (0, 1, 2...) without ever repeating
under one key, however many files a data key seals. The associated data binds the
header, the file's context (table, column, row), the chunk's number and whether it is
the last, so chunks cannot be reordered, dropped, added or taken from another file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.crypto.envelope import DecryptionError

VERSION = 1
HEADER = struct.Struct(">BI16sI")
SALT_SIZE = 16
CHUNK_SIZE = 64 * 1024
MAX_CHUNK_SIZE = 1024 * 1024  # a header asking for more is damaged
TAG_SIZE = 16
MAX_CHUNKS = 2**32 - 1

# The key for one file: from the data key id and the header's salt.
FileCipher = Callable[[int, bytes], AESGCM]


def _nonce(index: int) -> bytes:
    return bytes(8) + struct.pack(">I", index)


def _associated(header: bytes, bound_to: bytes, index: int, last: bool) -> bytes:
    return header + bound_to + struct.pack(">I?", index, last)


def seal_stream(
    cipher_for: FileCipher,
    key_id: int,
    chunks: Iterable[bytes],
    bound_to: bytes,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield the header, then one sealed chunk per ``chunk_size`` of the input. The last
    chunk (possibly empty) is marked as last, so cutting the file short is detected."""
    salt = os.urandom(SALT_SIZE)
    cipher = cipher_for(key_id, salt)
    header = HEADER.pack(VERSION, key_id, salt, chunk_size)
    yield header

    def sealed(piece: bytes, index: int, last: bool) -> bytes:
        if index > MAX_CHUNKS:
            raise ValueError("file too large to seal")
        return cipher.encrypt(_nonce(index), piece, _associated(header, bound_to, index, last))

    # Parts of any size come in; chunk_size pieces go out. A piece is sealed only once more
    # data follows it, since only then is it certain not to be the last.
    buffer = bytearray()
    start = 0  # of the unsealed data in buffer (cheaper than cutting the front off)
    index = 0
    for part in chunks:
        buffer += part
        while len(buffer) - start > chunk_size:
            yield sealed(bytes(buffer[start : start + chunk_size]), index, last=False)
            start += chunk_size
            index += 1
        if start:
            del buffer[:start]
            start = 0
    yield sealed(bytes(buffer), index, last=True)


def key_id_of_stream(header: bytes) -> int:
    return _read_header(header)[1]


def _read_header(header: bytes) -> tuple[int, int, bytes, int]:
    if len(header) < HEADER.size:
        raise DecryptionError("the file is truncated")
    version, key_id, salt, chunk_size = HEADER.unpack(header[: HEADER.size])
    if version != VERSION:
        raise DecryptionError(f"unknown file format version {version}")
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionError("the file's header is damaged")
    return int(version), int(key_id), bytes(salt), int(chunk_size)


def open_stream(
    cipher_for: FileCipher, sealed: Iterable[bytes], bound_to: bytes, where: str
) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; DecryptionError at the first bad chunk. (Code
    that sends a file on should read it all first: see portal.files.open_verified.)"""
    reader = _Reader(sealed)
    header = reader.read(HEADER.size)
    try:
        _version, key_id, salt, chunk_size = _read_header(header)
    except DecryptionError as error:
        raise DecryptionError(f"{where}: {error}") from None
    cipher = cipher_for(key_id, salt)
    index = 0
    piece = reader.read(chunk_size + TAG_SIZE)
    while True:
        if len(piece) < TAG_SIZE:
            raise DecryptionError(f"{where}: the file is truncated")
        following = reader.read(chunk_size + TAG_SIZE)
        last = not following
        try:
            yield cipher.decrypt(_nonce(index), piece, _associated(header, bound_to, index, last))
        except InvalidTag:
            raise DecryptionError(
                f"{where}: chunk {index} does not authenticate (altered, reordered, cut "
                "short, added to or from another file)"
            ) from None
        if last:
            return
        piece = following
        index += 1


class _Reader:
    """Exact-size reads over an iterable of byte strings of any sizes."""

    def __init__(self, parts: Iterable[bytes]) -> None:
        self._parts = iter(parts)
        self._buffer = bytearray()

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            try:
                self._buffer += next(self._parts)
            except StopIteration:
                break
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data
