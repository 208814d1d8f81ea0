"""The audit table is append-only in the database itself, and a hash chain shows any
change made behind the database's back."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.exc import DatabaseError

from portal import audit
from portal.extensions import db
from portal.models import AuditEvent, AuditKind
from portal.models.base import utcnow


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


# The hash chain


def _verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def _events(app: Flask, count: int) -> list[int]:
    """``count`` events, one transaction each; their numbers in the chain."""
    with app.app_context():
        events = []
        for n in range(count):
            events.append(audit.record(AuditKind.ROLE_CHANGED, n=n))
            db.session.commit()
        return [event.seq for event in events]  # type: ignore[misc]


@contextlib.contextmanager
def _triggers_off(app: Flask) -> Iterator[Connection]:
    """As someone with the database owner's rights could: the triggers out of the way
    (put back afterwards: the PostgreSQL test database is shared by the run)."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            try:
                yield connection
            finally:
                connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
            yield connection  # the next test starts from a fresh copy


def test_events_are_numbered_in_a_chain_that_verifies(app: Flask) -> None:
    assert _events(app, 3) == [1, 2, 3]
    with app.app_context():
        # Several in one transaction are chained too, in the order they were recorded.
        first = audit.record(AuditKind.ROLE_CHANGED, n="a")
        second = audit.record(AuditKind.ROLE_CHANGED, n="b")
        db.session.commit()
        assert (first.seq, second.seq) == (4, 5)
        assert len(first.chain_hash or "") == 64
    assert _verify(app) == (0, "The audit trail is intact: 5 event(s) checked\n")


def test_a_rolled_back_event_leaves_no_gap(app: Flask) -> None:
    _events(app, 1)
    with app.app_context():
        audit.record(AuditKind.ROLE_CHANGED)
        db.session.flush()
        db.session.rollback()
    assert _events(app, 1) == [2]
    assert _verify(app)[0] == 0


def test_the_chain_may_be_set_once_and_nothing_else_changed(app: Flask) -> None:
    _events(app, 1)
    with app.app_context():
        for statement in (
            "UPDATE audit_events SET seq = 7",  # already numbered
            "UPDATE audit_events SET chain_hash = 'x'",
        ):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()


def test_an_event_changed_behind_the_triggers_is_found(app: Flask) -> None:
    _events(app, 4)
    with _triggers_off(app) as connection:
        connection.execute(
            update(AuditEvent).where(AuditEvent.seq == 2).values(kind=AuditKind.SIGNED_OUT)
        )
    code, output = _verify(app)
    assert code == 1
    assert "event number 2 " in output
    assert "has been changed" in output
    assert "number 3" not in output  # the later links still hold: one problem, named once


def test_an_event_deleted_from_the_middle_or_the_end_is_found(app: Flask) -> None:
    _events(app, 5)
    with _triggers_off(app) as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.seq.in_([2, 5])))
    code, output = _verify(app)
    assert code == 1
    assert "1 event(s) missing before number 3" in output
    assert "1 event(s) missing from the end" in output


def test_an_event_added_by_hand_is_found(app: Flask) -> None:
    _events(app, 2)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            insert(AuditEvent).values(
                id=uuid.uuid4(), occurred_at=utcnow(), kind=AuditKind.SIGNED_OUT, detail={}
            )
        )
    code, output = _verify(app)
    assert code == 1
    assert "outside the chain" in output


def test_events_from_many_requests_at_once_make_one_unbroken_chain(app: Flask) -> None:
    """Eight threads, each with its own connection, recording at the same time."""

    def record_some() -> None:
        with app.app_context():
            for n in range(10):
                audit.record(AuditKind.ROLE_CHANGED, n=n)
                db.session.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(record_some) for _ in range(8)]:
            future.result()
    with app.app_context():
        numbers = db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert numbers == list(range(1, 81))
    assert _verify(app)[0] == 0
