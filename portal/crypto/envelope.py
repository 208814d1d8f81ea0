"""The envelope: how one encrypted value is laid out, in bytes.

    version (1 byte) | key id (4 bytes, big-endian) | nonce (12 bytes) | ciphertext | tag (16)

33 bytes of overhead. The associated data is the 5-byte header followed by the value's
*context* (logical table, column and row id), so a value copied to another row or
column, a changed key id or version, a flipped bit or a cut-off value all fail to
decrypt instead of returning anything.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
HEADER = struct.Struct(">BI")
NONCE_SIZE = 12
TAG_SIZE = 16
OVERHEAD = HEADER.size + NONCE_SIZE + TAG_SIZE  # 33
MAX_KEY_ID = 2**32 - 1


class DecryptionError(Exception):
    """A value could not be decrypted. The message names where, never what."""


def context(table: str, column: str, row_id: object) -> bytes:
    """What a value is bound to: its logical table and column, and its row."""
    return column_prefix(table, column) + str(row_id).encode()


@lru_cache(maxsize=1024)
def column_prefix(table: str, column: str) -> bytes:
    return f"{table}\x1f{column}\x1f".encode()


Where = str | Callable[[], str]


def _say(where: Where) -> str:
    """Where a failure happened; built only when there is one."""
    return where if isinstance(where, str) else where()


def seal(cipher: AESGCM, key_id: int, plaintext: bytes, bound_to: bytes) -> bytes:
    header = HEADER.pack(VERSION, key_id)
    nonce = os.urandom(NONCE_SIZE)
    return header + nonce + cipher.encrypt(nonce, plaintext, header + bound_to)


def key_id_of(blob: bytes, where: Where) -> int:
    if len(blob) < OVERHEAD:
        raise DecryptionError(f"{_say(where)}: the value is truncated")
    version, key_id = HEADER.unpack_from(blob)
    if version != VERSION:
        raise DecryptionError(f"{_say(where)}: unknown envelope version {version}")
    return int(key_id)


def unseal(
    cipher_for: Callable[[int], AESGCM], blob: bytes, bound_to: bytes, where: Where
) -> bytes:
    """Decrypt, or raise DecryptionError saying where (table, column, row) it failed."""
    key_id = key_id_of(blob, where)
    cipher = cipher_for(key_id)
    header_end = HEADER.size
    nonce = blob[header_end : header_end + NONCE_SIZE]
    try:
        return cipher.decrypt(nonce, blob[header_end + NONCE_SIZE :], blob[:header_end] + bound_to)
    except InvalidTag:
        raise DecryptionError(
            f"{_say(where)}: the value does not authenticate under key {key_id} "
            "(altered, truncated, or moved from another row or column)"
        ) from None
