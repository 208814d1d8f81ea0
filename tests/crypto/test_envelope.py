"""The envelope on its own: layout, binding, tampering."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.crypto import envelope
from portal.crypto.envelope import OVERHEAD, DecryptionError

KEY = AESGCM(AESGCM.generate_key(256))
HERE = envelope.context("users", "email", "row-1")


def seal(plaintext: bytes = b"jo@example.org", key_id: int = 7, bound: bytes = HERE) -> bytes:
    return envelope.seal(KEY, key_id, plaintext, bound)


def unseal(blob: bytes, bound: bytes = HERE) -> bytes:
    return envelope.unseal(lambda key_id: KEY, blob, bound, "users.email of row row-1")


def test_layout_is_version_key_id_nonce_ciphertext_tag() -> None:
    blob = seal(b"x" * 10, key_id=0x01020304)
    assert len(blob) == 10 + OVERHEAD == 43
    assert OVERHEAD == 33
    assert blob[0] == 1
    assert blob[1:5] == bytes([1, 2, 3, 4])
    assert unseal(blob) == b"x" * 10


def test_two_seals_of_one_value_differ() -> None:
    assert seal() != seal()


@pytest.mark.parametrize("position", [0, 1, 4, 5, 16, 17, 20, -1])
def test_any_flipped_byte_is_refused(position: int) -> None:
    blob = bytearray(seal())
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError, match=r"users\.email of row row-1"):
        unseal(bytes(blob))


def test_the_version_byte_is_checked() -> None:
    blob = bytearray(seal())
    blob[0] = 2
    with pytest.raises(DecryptionError, match="unknown envelope version 2"):
        unseal(bytes(blob))


@pytest.mark.parametrize("length", [0, 5, 17, 32])
def test_a_truncated_value_is_refused(length: int) -> None:
    with pytest.raises(DecryptionError, match=r"truncated|does not authenticate"):
        unseal(seal()[:length])


@pytest.mark.parametrize(
    "elsewhere",
    [
        envelope.context("users", "email", "row-2"),  # another row
        envelope.context("users", "full_name", "row-1"),  # another column
        envelope.context("invitations", "email", "row-1"),  # another table
    ],
)
def test_a_value_moved_elsewhere_does_not_open(elsewhere: bytes) -> None:
    with pytest.raises(DecryptionError, match="does not authenticate"):
        unseal(seal(), bound=elsewhere)


def test_the_error_says_where_never_what() -> None:
    with pytest.raises(DecryptionError) as error:
        unseal(seal(b"secret-value")[:-1])
    assert "secret-value" not in str(error.value)
    assert "users.email of row row-1" in str(error.value)
