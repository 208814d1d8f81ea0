"""The audit table is append-only in the database itself."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from portal import audit
from portal.extensions import db
from portal.models import AuditEvent, AuditKind


def _one_event(app: Flask) -> None:
    with app.app_context():
        audit.record(AuditKind.AUTHORITY_CREATED, code="TST")
        db.session.commit()


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(kind=AuditKind.SIGN_IN_SUCCEEDED),
        delete(AuditEvent),
    ],
    ids=["update", "delete"],
)
def test_events_cannot_be_changed_or_deleted(app: Flask, statement: object) -> None:
    _one_event(app)
    with app.app_context():
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(statement)  # type: ignore[call-overload]
        db.session.rollback()
        assert db.session.query(AuditEvent).count() == 1


def test_even_raw_sql_cannot_rewrite_history(app: Flask) -> None:
    _one_event(app)
    with (
        app.app_context(),
        pytest.raises(DatabaseError, match="append-only"),
        db.engine.begin() as connection,
    ):
        connection.execute(text("UPDATE audit_events SET actor_id = NULL"))


def test_details_are_plain_json(app: Flask) -> None:
    import uuid

    some_id = uuid.uuid4()
    with app.app_context():
        event = audit.record(AuditKind.ROLE_CHANGED, before=["lado"], thing=some_id)
        db.session.commit()
        stored = db.session.get(AuditEvent, event.id)
        assert stored
        assert stored.detail == {"before": ["lado"], "thing": str(some_id)}
