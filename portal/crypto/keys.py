"""Data keys, and the key manager that seals and opens values with them.

Every value is sealed under a *data key* that belongs to an owner: the deployment (for
accounts), an authority, or one case. Data keys are random; they are stored in the
database only wrapped: deployment and authority keys by a key-encryption key from the
keyring, case keys by their authority's key. Destroying a case key leaves that case's
values unreadable (crypto-shredding). Once a case's retention date is known, its key is
wrapped under that month's key from the keyring's retention ratchet as well, so a backup
from before its destruction cannot open it once the ratchet has moved past the month.

The AES-256-GCM key for one column is derived from the data key with HKDF, naming the
logical table and column, so no two columns share a key. Unwrapped and derived keys are
cached in this process for a short time and never written anywhere.

A key made inside a database transaction exists only once that transaction commits, so
until then it is cached for that transaction alone (its UnitOfWork), never for the whole
process: otherwise a rollback would leave values sealed under a key that is not there.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.crypto import envelope, stream
from portal.crypto.envelope import DecryptionError, Where, _say
from portal.crypto.keyring import KEY_BYTES, Keyring, KeyringError, month_label

DEPLOYMENT_ID = uuid.UUID(int=0)
SENTINEL = b"portal key sentinel"
KEY_TABLE = "data_keys"


@dataclass(frozen=True)
class KeyOwner:
    """Whose data a key protects. A case key also names its authority (its wrapper)."""

    kind: str  # "deployment" | "authority" | "case"
    id: uuid.UUID
    authority_id: uuid.UUID | None = None

    @classmethod
    def deployment(cls) -> KeyOwner:
        return cls("deployment", DEPLOYMENT_ID)

    @classmethod
    def authority(cls, authority_id: uuid.UUID) -> KeyOwner:
        return cls("authority", authority_id)

    @classmethod
    def case(cls, case_id: uuid.UUID, authority_id: uuid.UUID) -> KeyOwner:
        return cls("case", case_id, authority_id)

    def __str__(self) -> str:
        return self.kind if self.kind == "deployment" else f"{self.kind} {self.id}"


@dataclass(frozen=True)
class StoredKey:
    """A data key as the database holds it: wrapped, never in clear."""

    id: int
    owner: KeyOwner
    wrapped_by: str  # "kek" (a keyring key) or "data" (another data key)
    wrapper_id: int
    wrapped: bytes
    sentinel: bytes
    state: str  # "primary" | "decrypt_only" | "destroyed"
    # A case key's retention month (keyring.month_number), once scheduled: it is wrapped
    # under that month's ratchet key too.
    month: int | None = None


class KeyDroppedError(DecryptionError):
    """The key was wrapped under a retention month the ratchet has moved past: it is as
    destroyed as a destroyed key (a backup from before a case's destruction)."""


class KeyConflictError(Exception):
    """Another process created the owner's primary key, or took the id, first."""


class KeyStore(Protocol):
    """Where data keys live: implemented by the application over its database."""

    def get(self, key_id: int) -> StoredKey | None: ...

    def primary(self, owner: KeyOwner) -> StoredKey | None: ...

    def add(self, key: StoredKey) -> None: ...

    def set_state(self, key_id: int, state: str) -> None: ...

    def rewrap(
        self,
        key_id: int,
        wrapped_by: str,
        wrapper_id: int,
        wrapped: bytes,
        owner_authority_id: uuid.UUID | None,
        month: int | None,
    ) -> None: ...

    def destroy(self, key_id: int) -> None: ...

    def all(self, states: Iterable[str]) -> list[StoredKey]: ...


@dataclass
class _Cached:
    expires: float
    material: bytes
    ciphers: dict[tuple[str, str], AESGCM]


@dataclass
class UnitOfWork:
    """The keys one uncommitted transaction has made, cached for it alone."""

    created: set[int] = field(default_factory=set)
    keys: dict[int, _Cached] = field(default_factory=dict)
    primaries: dict[KeyOwner, int] = field(default_factory=dict)

    def rolled_back(self) -> None:
        """After a rollback (of a savepoint, too): the keys still there are read again
        from the transaction; the ones rolled back are gone."""
        self.keys.clear()
        self.primaries.clear()


class KeyManager:
    def __init__(
        self,
        keyring: Keyring,
        store: KeyStore,
        *,
        ttl: float = 300.0,
        primary_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        unit_of_work: Callable[[], UnitOfWork | None] = lambda: None,
    ) -> None:
        self.keyring = keyring
        self.store = store
        self.unit_of_work = unit_of_work
        self.ttl = ttl
        self.primary_ttl = primary_ttl
        self.clock = clock
        self._keys: dict[int, _Cached] = {}
        self._primaries: dict[KeyOwner, tuple[float, int]] = {}
        # (the ratchet's month, a month) -> that month's key (b"" once dropped)
        self._month_keys: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    # Sealing and opening values

    def seal(
        self, owner: KeyOwner, table: str, column: str, row_id: object, plaintext: bytes
    ) -> bytes:
        key_id, cipher = self.sealing_key(owner, table, column)
        return envelope.seal(cipher, key_id, plaintext, envelope.context(table, column, row_id))

    def sealing_key(self, owner: KeyOwner, table: str, column: str) -> tuple[int, AESGCM]:
        """The owner's primary key id and the column's cipher under it (for bulk work,
        which seals many values of one column and owner)."""
        key_id = self.primary_key_id(owner)
        return key_id, self._cipher(key_id, table, column)

    def unseal(self, table: str, column: str, row_id: object, blob: bytes) -> bytes:
        bound_to = envelope.context(table, column, row_id)
        # The common case, kept short (pages open hundreds of values): a current envelope
        # under a key already unwrapped, for a column already derived. Anything else,
        # including every failure, takes the full path below, which explains itself.
        if len(blob) >= envelope.OVERHEAD and blob[0] == envelope.VERSION:
            entry = self._keys.get(int.from_bytes(blob[1:5], "big"))
            if entry is not None and entry.expires > self.clock():
                cipher = entry.ciphers.get((table, column))
                if cipher is not None:
                    try:
                        return cipher.decrypt(blob[5:17], blob[17:], blob[:5] + bound_to)
                    except InvalidTag:
                        pass  # the full path below says what is wrong

        def where() -> str:  # only built when something fails
            return f"{table}.{column} of row {row_id}"

        return envelope.unseal(
            lambda key_id: self._cipher(key_id, table, column, where), blob, bound_to, where
        )

    def seal_stream(
        self, owner: KeyOwner, table: str, column: str, row_id: object, chunks: Iterable[bytes]
    ) -> tuple[int, Iterator[bytes]]:
        """A file sealed in chunks under the owner's primary key: the key id, and the
        sealed parts (header first) as the chunks are read."""
        key_id = self.primary_key_id(owner)
        where = f"{table}.{column} of row {row_id}"
        bound_to = envelope.context(table, column, row_id)
        return key_id, stream.seal_stream(
            self._file_cipher(table, column, where), key_id, chunks, bound_to
        )

    def open_stream(
        self, table: str, column: str, row_id: object, sealed: Iterable[bytes]
    ) -> Iterator[bytes]:
        """The plaintext of a sealed file, chunk by chunk; DecryptionError naming where
        at the first part that does not authenticate."""
        where = f"{table}.{column} of row {row_id}"
        return stream.open_stream(
            self._file_cipher(table, column, where),
            sealed,
            envelope.context(table, column, row_id),
            where,
        )

    def _file_cipher(self, table: str, column: str, where: str) -> stream.FileCipher:
        """One file's own key: from the data key, the column and the file's salt."""

        def cipher(key_id: int, salt: bytes) -> AESGCM:
            material = self._material(key_id, where).material
            info = f"portal file key v1\x1f{table}\x1f{column}".encode()
            hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info)
            return AESGCM(hkdf.derive(material))

        return cipher

    # Keys

    def primary_key_id(self, owner: KeyOwner) -> int:
        """The owner's primary key, made now if it has none (its first sealed value)."""
        found = self._cached_primary(owner)
        if found is not None:
            return found
        stored = self.store.primary(owner) or self._create(owner)
        self._cache_primary(owner, stored.id)
        return stored.id

    def existing_primary_key_id(self, owner: KeyOwner) -> int | None:
        """The owner's primary key, or None: for re-encryption, which moves values to
        keys that exist and never makes one (an owner whose key was destroyed has none)."""
        found = self._cached_primary(owner)
        if found is not None:
            return found
        stored = self.store.primary(owner)
        if stored is None:
            return None
        self._cache_primary(owner, stored.id)
        return stored.id

    def _cached_primary(self, owner: KeyOwner) -> int | None:
        work = self.unit_of_work()
        if work is not None and owner in work.primaries:
            return work.primaries[owner]
        cached = self._primaries.get(owner)
        return cached[1] if cached and cached[0] > self.clock() else None

    def _cache_primary(self, owner: KeyOwner, key_id: int) -> None:
        work = self.unit_of_work()
        if work is not None and key_id in work.created:
            work.primaries[owner] = key_id
        else:
            self._primaries[owner] = (self.clock() + self.primary_ttl, key_id)

    def _cache_key(self, key_id: int, entry: _Cached) -> None:
        work = self.unit_of_work()
        if work is not None and key_id in work.created:
            work.keys[key_id] = entry
            return
        with self._lock:
            self._keys[key_id] = entry

    def _create(self, owner: KeyOwner) -> StoredKey:
        """A new primary data key for the owner (or the one another process just made)."""
        for _ in range(5):
            try:
                return self._add_key(owner, state="primary")
            except KeyConflictError:
                existing = self.store.primary(owner)
                if existing is not None:
                    return existing
        raise KeyConflictError(f"could not create a data key for {owner}")

    def _add_key(self, owner: KeyOwner, state: str) -> StoredKey:
        key_id = secrets.randbelow(2**31 - 1) + 1
        material = secrets.token_bytes(KEY_BYTES)
        wrapped_by, wrapper_id, wrapping = self._wrapper_for(owner)
        stored = StoredKey(
            id=key_id,
            owner=owner,
            wrapped_by=wrapped_by,
            wrapper_id=wrapper_id,
            wrapped=envelope.seal(wrapping, wrapper_id, material, _wrap_context(key_id, owner)),
            sentinel=envelope.seal(
                _derive(material, KEY_TABLE, "sentinel"),
                key_id,
                SENTINEL,
                envelope.context(KEY_TABLE, "sentinel", key_id),
            ),
            state=state,
        )
        self.store.add(stored)
        work = self.unit_of_work()
        if work is not None:
            work.created.add(key_id)
        self._cache_key(key_id, _Cached(self.clock() + self.ttl, material, {}))
        return stored

    def _wrapper_for(self, owner: KeyOwner, month: int | None = None) -> tuple[str, int, AESGCM]:
        """Deployment and authority keys are wrapped by the primary KEK; a case key by
        its authority's primary data key (and its retention month's key, if given)."""
        if owner.kind == "case":
            if owner.authority_id is None:
                raise ValueError("a case key needs its authority")
            parent_id = self.primary_key_id(KeyOwner.authority(owner.authority_id))
            return "data", parent_id, self._case_wrapping(parent_id, month, "")
        kek = self.keyring.primary("kek")
        return "kek", kek.id, AESGCM(kek.material)

    def _case_wrapping(self, parent_id: int, month: int | None, where: Where) -> AESGCM:
        """What wraps a case key: its authority's key, joined with its retention month's
        key from the ratchet once it has one (neither opens it alone)."""
        if month is None:
            return self._cipher(parent_id, KEY_TABLE, "material", where)
        month_key = self.month_key(month)
        if month_key is None:
            raise KeyDroppedError(
                f"{_say(where)}: its key was kept for records due in {month_label(month)}, "
                "and that month's retention key has been dropped (the case was destroyed)"
            )
        parent = self._material(parent_id, where).material
        info = f"portal case key wrap v1\x1f{month}".encode()
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
        return AESGCM(hkdf.derive(parent + month_key))

    def month_key(self, month: int) -> bytes | None:
        """The retention ratchet's key for a month (cached: later months are derived
        one by one), or None once the ratchet has moved past it."""
        ratchet = self.keyring.retention
        if ratchet is None:
            raise KeyringError("the keyring has no retention ratchet: run `flask keys ratchet`")
        found = self._month_keys.get((ratchet.month, month))
        if found is None:
            found = self._month_keys[(ratchet.month, month)] = ratchet.key_for(month) or b""
        return found or None

    def schedulable_month(self, month: int, this_month: int) -> int | None:
        """The month a case key due in ``month`` is wrapped under: never one the ratchet
        may already have passed (this month, at the earliest); None with no ratchet."""
        ratchet = self.keyring.retention
        if ratchet is None:
            return None
        return max(month, this_month, ratchet.month)

    def _material(self, key_id: int, where: Where) -> _Cached:
        work = self.unit_of_work()
        if work is not None and key_id in work.keys:
            return work.keys[key_id]
        now = self.clock()
        cached = self._keys.get(key_id)
        if cached and cached.expires > now:
            return cached
        stored = self.store.get(key_id)
        if stored is None:
            raise DecryptionError(f"{_say(where)}: its key {key_id} is not in this deployment")
        if stored.state in ("destroyed", "retired"):
            raise DecryptionError(f"{_say(where)}: its key {key_id} has been {stored.state}")
        material = self._unwrap(stored, _say(where))
        entry = _Cached(now + self.ttl, material, {})
        self._cache_key(key_id, entry)
        return entry

    def _unwrap(self, stored: StoredKey, where: str) -> bytes:
        bound = _wrap_context(stored.id, stored.owner)
        # The wrapper recorded beside the key (what retiring a wrapper checks) must be
        # the one that sealed it.
        if envelope.key_id_of(stored.wrapped, f"data key {stored.id}") != stored.wrapper_id:
            raise DecryptionError(
                f"{where}: key {stored.id} does not match the wrapper recorded for it"
            )
        if stored.wrapped_by == "kek":
            kek = self.keyring.get("kek", stored.wrapper_id)
            if kek is None:
                raise DecryptionError(
                    f"{where}: key {stored.id} is wrapped by key-encryption key "
                    f"{stored.wrapper_id}, which is not in the keyring"
                )
            return envelope.unseal(
                lambda _: AESGCM(kek.material), stored.wrapped, bound, f"data key {stored.id}"
            )
        return envelope.unseal(
            lambda parent: self._case_wrapping(parent, stored.month, where),
            stored.wrapped,
            bound,
            f"data key {stored.id}",
        )

    def _cipher(self, key_id: int, table: str, column: str, where: Where = "") -> AESGCM:
        entry = self._material(key_id, where or f"{table}.{column}")
        cipher = entry.ciphers.get((table, column))
        if cipher is None:
            cipher = entry.ciphers[(table, column)] = _derive(entry.material, table, column)
        return cipher

    # Rotation and destruction

    def rotate(self, owner: KeyOwner) -> StoredKey:
        """A new primary key for the owner; the old one stays, decrypt-only, until
        re-encryption has moved every value off it."""
        old = self.store.primary(owner)
        if old is not None:
            self.store.set_state(old.id, "decrypt_only")
        self._primaries.pop(owner, None)
        new = self._create(owner)
        self._cache_primary(owner, new.id)
        return new

    def rewrap(
        self,
        key: StoredKey,
        owner: KeyOwner | None = None,
        *,
        month: int | Literal["same"] | None = "same",
    ) -> None:
        """Wrap a data key again under its owner's current wrapper (after a KEK rotation,
        or an authority key rotation for case keys). With ``owner``, the key changes
        hands: a transferred case's key is wrapped by its new authority's key. With
        ``month``, a case key moves to that retention month (None: to none, while the
        case is under a legal hold). The key's material, and so every value sealed under
        it, stays as it was."""
        owner = owner or key.owner
        if (owner.kind, owner.id) != (key.owner.kind, key.owner.id):
            raise ValueError(f"key {key.id} belongs to {key.owner}, not {owner}")
        month = key.month if month == "same" else month
        material = self._material(key.id, f"data key {key.id}").material
        wrapped_by, wrapper_id, wrapping = self._wrapper_for(owner, month)
        if (wrapped_by, wrapper_id, owner, month) == (
            key.wrapped_by,
            key.wrapper_id,
            key.owner,
            key.month,
        ):
            return
        self.store.rewrap(
            key.id,
            wrapped_by,
            wrapper_id,
            envelope.seal(wrapping, wrapper_id, material, _wrap_context(key.id, owner)),
            owner.authority_id,
            month,
        )

    def destroy(self, key_id: int) -> None:
        """Destroy a data key: what it protected can never be read again. (Other
        processes may still hold it in their caches for up to ``ttl`` seconds.)"""
        self.store.destroy(key_id)
        with self._lock:
            self._keys.pop(key_id, None)
            self._primaries = {o: v for o, v in self._primaries.items() if v[1] != key_id}
        work = self.unit_of_work()
        if work is not None:
            work.keys.pop(key_id, None)
            work.primaries = {o: k for o, k in work.primaries.items() if k != key_id}

    def forget_cache(self) -> None:
        with self._lock:
            self._keys.clear()
            self._primaries.clear()

    def verify(self) -> int:
        """Open every key wrapped by the keyring and decrypt its sentinel. Raises
        KeyringError (one line) if one fails: the app must not serve with a wrong
        keyring. Returns how many keys were checked."""
        checked = 0
        for stored in self.store.all(("primary", "decrypt_only")):
            if stored.wrapped_by != "kek":
                continue  # case keys are many, and are checked by AES-GCM when used
            try:
                material = self._unwrap(stored, f"data key {stored.id}")
                envelope.unseal(
                    lambda _, m=material: _derive(m, KEY_TABLE, "sentinel"),  # type: ignore[misc]
                    stored.sentinel,
                    envelope.context(KEY_TABLE, "sentinel", stored.id),
                    f"data key {stored.id}",
                )
            except DecryptionError as error:
                raise KeyringError(
                    f"the keyring does not open data key {stored.id} ({stored.owner}): "
                    f"{error}. Is this the deployment's keys.json?"
                ) from None
            checked += 1
        return checked


def _wrap_context(key_id: int, owner: KeyOwner) -> bytes:
    return envelope.context(KEY_TABLE, f"material:{owner.kind}:{owner.id}", key_id)


def _derive(material: bytes, table: str, column: str) -> AESGCM:
    info = f"portal column key v1\x1f{table}\x1f{column}".encode()
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material))
