"""One-time links (invitations, password resets): what can be wrong with one, and using
one exactly once."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum, auto
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from portal.extensions import db
from portal.models import utcnow
from portal.tokens import hash_token

Linked = TypeVar("Linked")


class LinkProblem(Enum):
    NOT_FOUND = auto()
    EXPIRED = auto()
    USED = auto()


class LinkAlreadyUsedError(Exception):
    """Another request used the same one-time link first (a double click, two tabs)."""


def use_once(column: InstrumentedAttribute[datetime | None], row_id: uuid.UUID) -> None:
    """Stamp a one-time link's ``*_at`` column, or raise if another request already did.

    A conditional UPDATE, so two requests racing with one link cannot both succeed.
    """
    entity = column.class_
    result = db.session.execute(
        update(entity)
        .where(entity.id == row_id, column.is_(None))
        .values({column.key: utcnow()})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise LinkAlreadyUsedError


def find_by_token(model: type[Linked], token: str) -> Linked | None:
    """The invitation or reset whose link carries this token (stored only as a digest)."""
    return db.session.scalars(
        select(model).where(model.token_hash == hash_token(token))  # type: ignore[attr-defined]
    ).first()


def expired(expires_at: datetime) -> bool:
    return expires_at <= utcnow()
