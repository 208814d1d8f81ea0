"""The keyring: the keys that never enter the database.

A JSON document, in ``instance/keys.json`` (mode 0600) or the ``PORTAL_KEYS`` environment
variable (the JSON itself, or base64 of it)::

    {"format": 1,
     "kek":   [{"id": 1, "state": "primary", "material": "<base64, 32 bytes>"}],
     "index": [{"id": 1, "state": "primary", "material": "<base64, 32 bytes>"}],
     "retention": {"month": "2026-12", "material": "<base64, 32 bytes>"}}

Key-encryption keys (``kek``) wrap the data keys stored in the database; index keys key
the blind indexes. Each kind has exactly one primary key; older ones stay
``decrypt_only`` until nothing depends on them, then they are removed.

``retention`` is a ratchet: the key of one month, from which every later month's key is
derived (each the HMAC of the one before) and no earlier one can be. A case's key is
wrapped under its retention month's key as well as its authority's data key, so once the
ratchet has moved past that month (``flask keys ratchet``, monthly), a backup taken
before the case was destroyed cannot open it either: the month's key is nowhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FORMAT = 1
KEY_BYTES = 32
KINDS = ("kek", "index")
STATES = ("primary", "decrypt_only")
KEYRING_FILE = "keys.json"


class KeyringError(Exception):
    """The keyring is missing or unusable; the message is one line saying what to do."""


@dataclass(frozen=True)
class RingKey:
    id: int
    state: str
    material: bytes = field(repr=False)


def month_number(day: date) -> int:
    """A calendar month as one number (year * 12 + month - 1), as keys record it."""
    return day.year * 12 + day.month - 1


def month_label(month: int) -> str:
    return f"{month // 12}-{month % 12 + 1:02d}"


def _month_from_label(label: str) -> int:
    year, month = label.split("-")
    if not (len(year) == 4 and len(month) == 2 and 1 <= int(month) <= 12):
        raise ValueError(label)
    return int(year) * 12 + int(month) - 1


@dataclass(frozen=True)
class Ratchet:
    """The retention ratchet: the key of ``month``; later months' keys follow from it."""

    month: int
    material: bytes = field(repr=False)

    def key_for(self, month: int) -> bytes | None:
        """The month's key, or None for a month it has moved past (dropped for good)."""
        if month < self.month:
            return None
        key = self.material
        for _ in range(month - self.month):
            key = _next_month(key)
        return key

    def moved_to(self, month: int) -> Ratchet:
        key = self.key_for(month)
        if key is None:
            raise ValueError("the ratchet only moves forward")
        return Ratchet(month, key)


def _next_month(key: bytes) -> bytes:
    return hmac.new(key, b"portal retention ratchet v1: next month", hashlib.sha256).digest()


def new_ratchet(today: date | None = None) -> Ratchet:
    return Ratchet(month_number(today or datetime.now(UTC).date()), secrets.token_bytes(KEY_BYTES))


@dataclass(frozen=True)
class Keyring:
    kek: tuple[RingKey, ...]
    index: tuple[RingKey, ...]
    # None in a keyring from before the ratchet: cases are then wrapped by their
    # authority's key alone, until ``flask keys ratchet`` adds one.
    retention: Ratchet | None = None

    def keys(self, kind: str) -> tuple[RingKey, ...]:
        keys: tuple[RingKey, ...] = getattr(self, kind)
        return keys

    def primary(self, kind: str) -> RingKey:
        return next(key for key in self.keys(kind) if key.state == "primary")

    def get(self, kind: str, key_id: int) -> RingKey | None:
        return next((key for key in self.keys(kind) if key.id == key_id), None)

    def to_json(self) -> str:
        ratchet = (
            {
                "retention": {
                    "month": month_label(self.retention.month),
                    "material": base64.b64encode(self.retention.material).decode(),
                }
            }
            if self.retention
            else {}
        )
        return json.dumps(
            {
                "format": FORMAT,
                **{
                    kind: [
                        {
                            "id": key.id,
                            "state": key.state,
                            "material": base64.b64encode(key.material).decode(),
                        }
                        for key in getattr(self, kind)
                    ]
                    for kind in KINDS
                },
                **ratchet,
            },
            indent=2,
        )

    def _replacing(self, kind: str, keys: tuple[RingKey, ...]) -> Keyring:
        return Keyring(**{**{k: self.keys(k) for k in KINDS}, kind: keys}, retention=self.retention)

    def with_ratchet(self, ratchet: Ratchet) -> Keyring:
        return Keyring(kek=self.kek, index=self.index, retention=ratchet)

    def staged(self, kind: str) -> RingKey | None:
        """A key newer than the primary, added but not yet used."""
        primary = self.primary(kind)
        newer = [key for key in self.keys(kind) if key.id > primary.id]
        return newer[-1] if newer else None

    def with_staged_key(self, kind: str) -> Keyring:
        """A copy with a new key of this kind, decrypt-only: every instance can hold it
        before any of them depends on it."""
        new_id = max(key.id for key in self.keys(kind)) + 1
        new = RingKey(new_id, "decrypt_only", secrets.token_bytes(KEY_BYTES))
        return self._replacing(kind, (*self.keys(kind), new))

    def with_primary(self, kind: str, key_id: int) -> Keyring:
        """A copy where this key is primary and the others decrypt-only."""
        return self._replacing(
            kind,
            tuple(
                RingKey(key.id, "primary" if key.id == key_id else "decrypt_only", key.material)
                for key in self.keys(kind)
            ),
        )

    def without(self, kind: str, key_id: int) -> Keyring:
        return self._replacing(kind, tuple(key for key in self.keys(kind) if key.id != key_id))


def new_keyring() -> Keyring:
    return Keyring(
        kek=(RingKey(1, "primary", secrets.token_bytes(KEY_BYTES)),),
        index=(RingKey(1, "primary", secrets.token_bytes(KEY_BYTES)),),
        retention=new_ratchet(),
    )


def parse(text: str, source: str) -> Keyring:
    """Read a keyring from JSON (or base64 of JSON); KeyringError if it is not one."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        try:
            stripped = base64.b64decode(stripped, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise KeyringError(f"{source} is neither JSON nor base64 of JSON") from None
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError as error:
        raise KeyringError(
            f"{source} is not valid JSON ({error.msg}, line {error.lineno})"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise KeyringError(f"{source} is not a keyring of format {FORMAT}")
    kinds = {kind: _keys(document.get(kind), kind, source) for kind in KINDS}
    return Keyring(**kinds, retention=_ratchet(document.get("retention"), source))


def _ratchet(entry: Any, source: str) -> Ratchet | None:
    if entry is None:
        return None
    try:
        ratchet = Ratchet(
            _month_from_label(str(entry["month"])),
            base64.b64decode(entry["material"], validate=True),
        )
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise KeyringError(f"{source} has a malformed retention entry") from None
    if len(ratchet.material) != KEY_BYTES:
        raise KeyringError(f"{source}: the retention key is not a valid 256-bit key")
    return ratchet


def _keys(entries: Any, kind: str, source: str) -> tuple[RingKey, ...]:
    if not isinstance(entries, list) or not entries:
        raise KeyringError(f"{source} has no {kind} keys")
    keys = []
    for entry in entries:
        try:
            key = RingKey(
                id=int(entry["id"]),
                state=str(entry["state"]),
                material=base64.b64decode(entry["material"], validate=True),
            )
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise KeyringError(f"{source} has a malformed {kind} key entry") from None
        if key.state not in STATES or len(key.material) != KEY_BYTES or not 0 < key.id < 2**31:
            raise KeyringError(f"{source}: {kind} key {key.id} is not a valid 256-bit key")
        keys.append(key)
    if sum(key.state == "primary" for key in keys) != 1:
        raise KeyringError(f"{source} must have exactly one primary {kind} key")
    if len({key.id for key in keys}) != len(keys):
        raise KeyringError(f"{source} repeats a {kind} key id")
    return tuple(keys)


def load(environ: dict[str, str], instance_path: Path) -> Keyring:
    """The keyring from PORTAL_KEYS, else from instance/keys.json (which must be 0600)."""
    if environ.get("PORTAL_KEYS"):
        return parse(environ["PORTAL_KEYS"], "PORTAL_KEYS")
    path = instance_path / KEYRING_FILE
    if not path.exists():
        raise KeyringError(
            f"no keyring: run `flask keys init` to create {path}, or set PORTAL_KEYS"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyringError(f"{path} can be read by other users: run chmod 600 {path}")
    return parse(path.read_text(), str(path))


def write(keyring: Keyring, path: Path) -> None:
    """Write atomically, mode 0600 from the first byte (a left-over temporary file from
    an interrupted write is removed first, never reused with its mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    _write_new(temporary, keyring)
    os.replace(temporary, path)


def init(path: Path) -> bool:
    """Create a keyring file if there is none. Returns True when it made one. Two runs
    at once cannot both make one: the file is created exclusively."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_new(path, new_keyring())
    except FileExistsError:
        return False
    return True


def _write_new(path: Path, keyring: Keyring) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(keyring.to_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
