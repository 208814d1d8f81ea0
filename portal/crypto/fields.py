"""Encrypted model attributes, declared on the model like any column::

    class User(Base):
        __encryption_owner__ = OwnerSpec.deployment()
        email: Encrypted[str] = Encrypted(TEXT, max_length=320)

The attribute reads and writes plain Python values. The database holds only the sealed
bytes (the envelope) in a column named after the attribute. Values are sealed when the
session flushes, once the row's id and owner are known, and opened the first time the
attribute is read, so a page pays only for the fields it shows.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar, cast, overload

from sqlalchemy import LargeBinary
from sqlalchemy.orm import mapped_column

from portal.crypto.envelope import DecryptionError
from portal.crypto.keys import KeyManager, KeyOwner

T = TypeVar("T")
MANAGER_KEY = "_key_manager"
ROW_ID_KEY = "_sealed_row_id"
# A placeholder written to the storage column on assignment, so the ORM sees the row as
# changed; the flush hook replaces it with the sealed value. Never a valid envelope.
PENDING = b""


class ValueTooLongError(ValueError):
    """A value over its field's limit; nothing is stored."""


class Codec(Protocol[T]):
    def encode(self, value: T) -> bytes: ...

    def decode(self, data: bytes) -> T: ...

    def size(self, value: T) -> int: ...


class TextCodec:
    def encode(self, value: str) -> bytes:
        if not isinstance(value, str):
            raise TypeError(f"expected text, not {type(value).__name__}")
        return value.encode()

    def decode(self, data: bytes) -> str:
        return data.decode()

    def size(self, value: str) -> int:
        return len(value)


class DateCodec:
    def encode(self, value: datetime.date) -> bytes:
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise TypeError(f"expected a date, not {type(value).__name__}")
        return value.isoformat().encode()

    def decode(self, data: bytes) -> datetime.date:
        return datetime.date.fromisoformat(data.decode())

    def size(self, value: datetime.date) -> int:
        return 10


class JsonCodec:
    def encode(self, value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)

    def size(self, value: Any) -> int:
        return len(self.encode(value))


class BytesCodec:
    def encode(self, value: bytes) -> bytes:
        if not isinstance(value, bytes):
            raise TypeError(f"expected bytes, not {type(value).__name__}")
        return value

    def decode(self, data: bytes) -> bytes:
        return data

    def size(self, value: bytes) -> int:
        return len(value)


TEXT: Codec[str] = TextCodec()
DATE: Codec[datetime.date] = DateCodec()
JSON: Codec[Any] = JsonCodec()
BYTES: Codec[bytes] = BytesCodec()


@dataclass(frozen=True)
class OwnerSpec:
    """Which data key a model's rows are sealed under, read from the row's own columns."""

    kind: str
    id_attribute: str | None = None
    authority_attribute: str | None = None

    @classmethod
    def deployment(cls) -> OwnerSpec:
        return cls("deployment")

    @classmethod
    def authority(cls, attribute: str = "authority_id") -> OwnerSpec:
        return cls("authority", attribute)

    @classmethod
    def case(cls, attribute: str = "case_id", authority: str = "authority_id") -> OwnerSpec:
        return cls("case", attribute, authority)

    def owner(self, row: Any) -> KeyOwner:
        """The owner of a row (an ORM object, or a Core row with the same names)."""
        if self.kind == "deployment" or self.id_attribute is None:
            return KeyOwner.deployment()
        owner_id = _as_uuid(getattr(row, self.id_attribute))
        if self.kind == "authority" or self.authority_attribute is None:
            return KeyOwner.authority(owner_id)
        return KeyOwner.case(owner_id, _as_uuid(getattr(row, self.authority_attribute)))

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(a for a in (self.id_attribute, self.authority_attribute) if a)


def _as_uuid(value: Any) -> uuid.UUID:
    if value is None:
        raise ValueError("an encrypted row has no owner yet: set its owner before flushing")
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


_manager_provider: Callable[[], KeyManager] | None = None


def configure(provider: Callable[[], KeyManager]) -> None:
    """Tell the fields where the running key manager is (the app does, at start)."""
    global _manager_provider
    _manager_provider = provider


def manager() -> KeyManager:
    if _manager_provider is None:
        raise RuntimeError("encrypted fields are not configured: no key manager")
    return _manager_provider()


V = TypeVar("V")


@overload
def encrypted(
    codec: Codec[T],
    *,
    nullable: Literal[False],
    max_length: int | None = ...,
    column: str | None = ...,
) -> Encrypted[T]: ...


@overload
def encrypted(
    codec: Codec[T],
    *,
    nullable: Literal[True] = ...,
    max_length: int | None = ...,
    column: str | None = ...,
) -> Encrypted[T | None]: ...


def encrypted(
    codec: Codec[Any],
    *,
    nullable: bool = True,
    max_length: int | None = None,
    column: str | None = None,
) -> Encrypted[Any]:
    """Declare an encrypted attribute; its type is ``T``, or ``T | None`` if nullable."""
    return Encrypted(codec, max_length=max_length, nullable=nullable, column=column)


class Encrypted(Generic[V]):
    """A model attribute stored sealed. ``max_length`` is checked on assignment."""

    def __init__(
        self,
        codec: Codec[Any],
        *,
        max_length: int | None = None,
        nullable: bool = True,
        column: str | None = None,
    ) -> None:
        self.codec = codec
        self.max_length = max_length
        self.nullable = nullable
        self.column = column
        self.name = ""
        self.storage = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.column = self.column or name
        self.storage = f"_sealed_{name}"
        self._pending_key = f"_pending_{name}"
        self._cache_key = f"_opened_{name}"

    @overload
    def __get__(self, instance: None, owner: type) -> Encrypted[V]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> V: ...

    def __get__(self, instance: object | None, owner: type) -> Encrypted[V] | V:
        if instance is None:
            return self
        return cast(V, self._value(instance))

    def _value(self, instance: Any) -> Any:
        state = instance.__dict__
        if self._pending_key in state:
            return state[self._pending_key]
        blob = getattr(instance, self.storage)
        if blob is None:
            return None
        cached = state.get(self._cache_key)
        if cached is not None and cached[0] is blob:
            return cached[1]
        # Looked up once per object: a page opens many fields of many rows.
        keys = state.get(MANAGER_KEY) or state.setdefault(MANAGER_KEY, manager())
        row_id = state.get(ROW_ID_KEY) or state.setdefault(ROW_ID_KEY, str(instance.id))
        value = self.open(keys, logical_table(type(instance)), row_id, blob)
        state[self._cache_key] = (blob, value)
        return value

    def open(self, keys: KeyManager, table: str, row_id: str, blob: bytes | None) -> Any:
        """The plain value of this field's sealed bytes from the row ``row_id`` of the
        logical ``table`` (for code that reads rows without the ORM)."""
        if blob is None:
            return None
        column = self.column or self.name
        plaintext = keys.unseal(table, column, row_id, blob)
        try:
            return self.codec.decode(plaintext)
        except ValueError:  # the codec's message would quote the value: never say it
            raise DecryptionError(
                f"{table}.{column} of row {row_id}: the value is not of its field's type"
            ) from None

    def __set__(self, instance: object, value: V) -> None:
        if value is None:
            if not self.nullable:
                raise ValueError(f"{self.name} cannot be empty")
            instance.__dict__.pop(self._pending_key, None)
            setattr(instance, self.storage, None)
            return
        if self.max_length is not None and self.codec.size(value) > self.max_length:
            raise ValueTooLongError(
                f"{logical_table(type(instance))}.{self.column} takes at most "
                f"{self.max_length} characters"
            )
        self.codec.encode(value)  # a wrong type fails now, not at flush
        instance.__dict__[self._pending_key] = value
        setattr(instance, self.storage, PENDING)

    # The database holds only sealed bytes: comparing the attribute in a query would
    # silently match nothing. Say so instead (look-ups go through a blind index).
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Encrypted):
            return self is other
        raise TypeError(
            f"{self.name} is encrypted and cannot be compared in SQL: use its blind index"
        )

    __hash__ = object.__hash__

    def seal_pending(self, instance: Any, keys: KeyManager) -> bool:
        """Replace a pending plaintext with its sealed bytes. True if there was one. If
        sealing fails (no owner yet, say) the plaintext stays pending for a retry."""
        if self._pending_key not in instance.__dict__:
            return False
        value = instance.__dict__[self._pending_key]
        owner = owner_spec(type(instance)).owner(instance)
        blob = keys.seal(
            owner,
            logical_table(type(instance)),
            self.column or self.name,
            instance.id,
            self.codec.encode(value),
        )
        del instance.__dict__[self._pending_key]
        setattr(instance, self.storage, blob)
        instance.__dict__[self._cache_key] = (blob, value)
        return True

    def make_pending(self, instance: Any) -> None:
        """Open the stored value and mark it to be sealed again at the next flush (under
        the row's owner's current key): after the owner changes, or for a new row whose
        earlier flush was rolled back with the key it used."""
        if self._pending_key in instance.__dict__:
            return
        stored = getattr(instance, self.storage)
        if stored is None or stored == PENDING:
            return
        self.__set__(instance, self._value(instance))


def encrypted_field(cls: type, name: str) -> Encrypted[Any]:
    field = getattr(cls, name)
    if not isinstance(field, Encrypted):
        raise TypeError(f"{cls.__name__}.{name} is not an encrypted field")
    return field


def encrypted_fields(cls: type) -> list[Encrypted[Any]]:
    fields: list[Encrypted[Any]] = []
    for klass in reversed(cls.__mro__):
        fields.extend(v for v in vars(klass).values() if isinstance(v, Encrypted))
    return fields


def add_storage_columns(cls: type) -> None:
    """Give each Encrypted attribute its column; called before the class is mapped."""
    for field in [v for v in vars(cls).values() if isinstance(v, Encrypted)]:
        setattr(
            cls, field.storage, mapped_column(field.column, LargeBinary, nullable=field.nullable)
        )


class HasEncryptedFields:
    """Mix into a declarative base (before DeclarativeBase) so that each model's
    Encrypted attributes get their storage column before the class is mapped."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        add_storage_columns(cls)
        super().__init_subclass__(**kwargs)


def logical_table(cls: type) -> str:
    """The table name values are bound to; stays the same if the real table is renamed."""
    return str(getattr(cls, "__encryption_table__", None) or cls.__tablename__)  # type: ignore[attr-defined]


def owner_spec(cls: type) -> OwnerSpec:
    spec = getattr(cls, "__encryption_owner__", None)
    if not isinstance(spec, OwnerSpec):
        raise TypeError(f"{cls.__name__} has encrypted fields but no __encryption_owner__")
    return spec
