"""Files (attachments) sealed in chunks, so a 20 MB file is never held in memory twice
and a damaged, truncated, reordered or swapped chunk is detected.

    header: version (1) | key id (4) | nonce prefix (8) | chunk size (4)
    then chunks, each AES-256-GCM ciphertext and tag

Chunk n is sealed with the nonce ``prefix || n`` (4 bytes) and associated data binding the
header, the file's context (table, column, row), n and whether it is the last chunk, so
chunks cannot be reordered, dropped, or taken from another file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.crypto.envelope import DecryptionError

VERSION = 1
HEADER = struct.Struct(">BI8sI")
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
MAX_CHUNKS = 2**32 - 1


def _associated(header: bytes, bound_to: bytes, index: int, last: bool) -> bytes:
    return header + bound_to + struct.pack(">I?", index, last)


def seal_stream(
    cipher: AESGCM,
    key_id: int,
    chunks: Iterable[bytes],
    bound_to: bytes,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield the header, then one sealed chunk per ``chunk_size`` of the input. The last
    chunk (possibly empty) is marked as last, so cutting the file short is detected."""
    prefix = os.urandom(8)
    header = HEADER.pack(VERSION, key_id, prefix, chunk_size)
    yield header

    def sealed(piece: bytes, index: int, last: bool) -> bytes:
        if index > MAX_CHUNKS:
            raise ValueError("file too large to seal")
        nonce = prefix + struct.pack(">I", index)
        return cipher.encrypt(nonce, piece, _associated(header, bound_to, index, last))

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
    yield sealed(bytes(buffer[start:]), index, last=True)


def key_id_of_stream(header: bytes) -> int:
    if len(header) < HEADER.size:
        raise DecryptionError("the file is truncated")
    version, key_id, _prefix, _size = HEADER.unpack(header[: HEADER.size])
    if version != VERSION:
        raise DecryptionError(f"unknown file format version {version}")
    return int(key_id)


def open_stream(
    cipher_for: Callable[[int], AESGCM], sealed: Iterable[bytes], bound_to: bytes, where: str
) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; DecryptionError at the first bad chunk."""
    reader = _Reader(sealed)
    header = reader.read(HEADER.size)
    try:
        key_id = key_id_of_stream(header)
    except DecryptionError as error:
        raise DecryptionError(f"{where}: {error}") from None
    _version, _key_id, prefix, chunk_size = HEADER.unpack(header)
    cipher = cipher_for(key_id)
    index = 0
    piece = reader.read(chunk_size + TAG_SIZE)
    while True:
        if len(piece) < TAG_SIZE:
            raise DecryptionError(f"{where}: the file is truncated")
        following = reader.read(chunk_size + TAG_SIZE)
        last = not following
        nonce = prefix + struct.pack(">I", index)
        try:
            yield cipher.decrypt(nonce, piece, _associated(header, bound_to, index, last))
        except InvalidTag:
            raise DecryptionError(
                f"{where}: chunk {index} does not authenticate (altered, reordered, cut "
                "short or from another file)"
            ) from None
        if last:
            return
        piece = following
        index += 1


class _Reader:
    """Exact-size reads over an iterable of byte strings of any sizes."""

    def __init__(self, parts: Iterable[bytes]) -> None:
        self._parts = iter(parts)
        self._buffer = b""

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            try:
                self._buffer += next(self._parts)
            except StopIteration:
                break
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
