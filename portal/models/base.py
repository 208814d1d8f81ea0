"""The declarative base and the column types every model shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import DateTime, Dialect, Enum, Index, MetaData, String, TypeDecorator, Uuid, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, mapped_column, registry

from portal.crypto.fields import HasEncryptedFields

# Stable constraint names so Alembic can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps the zone (timestamptz); SQLite drops it, so values are stored as UTC
    and given their zone back on the way out. A naive datetime is a bug and is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(HasEncryptedFields, DeclarativeBase):
    # One registry carrying the naming convention and the type map (Flask-SQLAlchemy
    # subclasses this base, so both live on the registry rather than the class).
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), uuid.UUID: Uuid()},
    )


# Shared column shapes (Warehouse's habit): one definition, used by every model.
UUIDPrimaryKey = Annotated[uuid.UUID, mapped_column(primary_key=True, default=uuid.uuid4)]
CreatedAt = Annotated[datetime, mapped_column(default=utcnow)]
ShortText = Annotated[str, mapped_column(String(120))]
Name = Annotated[str, mapped_column(String(200))]
Email = Annotated[str, mapped_column(String(320))]
URL = Annotated[str, mapped_column(String(500))]


def enum_column(enum_class: type[Any], **kwargs: Any) -> Any:
    """A column holding an enum's *values* as plain strings.

    Not a native PostgreSQL enum: later issues add values without an ALTER TYPE.
    """
    return mapped_column(
        Enum(
            enum_class,
            native_enum=False,
            length=40,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        **kwargs,
    )


def unique_where(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows matching ``where`` only (on both databases): for
    "at most one per ..." rules that NULLs or states would otherwise slip past."""
    return Index(
        name,
        *columns,
        unique=True,
        postgresql_where=text(where),
        sqlite_where=text(where),
    )


def insert_unless_exists(connection: Any, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect (both databases
    have it): for rows that several processes may try to create at once."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()
