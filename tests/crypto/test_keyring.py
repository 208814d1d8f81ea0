"""The keyring file and variable: valid, invalid, private."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from portal.crypto import keyring
from portal.crypto.keyring import KeyringError, new_keyring


def test_round_trip_as_json_and_as_base64() -> None:
    ring = new_keyring()
    text = ring.to_json()
    assert keyring.parse(text, "x") == ring
    assert keyring.parse(base64.b64encode(text.encode()).decode(), "x") == ring


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "neither JSON nor base64"),
        ("{", "not valid JSON"),
        ('{"format": 2}', "not a keyring of format 1"),
        ('{"format": 1, "kek": [], "index": []}', "has no kek keys"),
        ('{"format": 1, "kek": [{"id": 1}], "index": []}', "malformed kek key"),
    ],
)
def test_a_corrupt_keyring_is_refused_with_a_reason(document: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message):
        keyring.parse(document, "instance/keys.json")


def test_keys_must_be_256_bits_with_one_primary() -> None:
    document = json.loads(new_keyring().to_json())
    document["kek"][0]["material"] = base64.b64encode(b"short").decode()
    with pytest.raises(KeyringError, match="not a valid 256-bit key"):
        keyring.parse(json.dumps(document), "x")
    document = json.loads(new_keyring().to_json())
    document["index"].append(dict(document["index"][0], id=2))
    with pytest.raises(KeyringError, match="exactly one primary index key"):
        keyring.parse(json.dumps(document), "x")


def test_init_makes_a_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    assert keyring.init(path)
    first = path.read_text()
    assert not keyring.init(path)
    assert path.read_text() == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert keyring.load({}, tmp_path) == keyring.parse(first, "x")


def test_a_missing_keyring_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="run `flask keys init`"):
        keyring.load({}, tmp_path)


def test_a_keyring_others_can_read_is_refused(tmp_path: Path) -> None:
    keyring.init(tmp_path / "keys.json")
    (tmp_path / "keys.json").chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        keyring.load({}, tmp_path)


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    keyring.init(tmp_path / "keys.json")
    other = new_keyring()
    assert keyring.load({"PORTAL_KEYS": other.to_json()}, tmp_path) == other


def test_staging_and_promoting_a_key() -> None:
    ring = new_keyring()
    staged = ring.with_staged_key("kek")
    assert staged.primary("kek").id == 1
    assert staged.staged("kek") is not None
    promoted = staged.with_primary("kek", 2)
    assert promoted.primary("kek").id == 2
    assert promoted.staged("kek") is None
    assert [k.id for k in promoted.without("kek", 1).kek] == [2]
