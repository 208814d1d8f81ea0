"""The audit table is append-only in the database itself, and a hash chain shows any
change made behind the database's back."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError

from portal import audit, audit_chain
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


def _chain(app: Flask) -> str:
    """As cron would: ``flask audit chain``."""
    return app.test_cli_runner().invoke(args=["audit", "chain"]).output


def _events(app: Flask, count: int) -> list[int]:
    """``count`` events, one transaction each, then chained; their numbers."""
    with app.app_context():
        ids = []
        for n in range(count):
            event = audit.record(AuditKind.ROLE_CHANGED, n=n)
            db.session.commit()
            ids.append(event.id)
    assert _chain(app) == f"Chained {count} audit event(s)\n"
    return [seq for seq in _numbers(app, ids) if seq is not None]


def _numbers(app: Flask, ids: list[uuid.UUID]) -> list[int | None]:
    with app.app_context():
        numbers = dict(db.session.execute(select(AuditEvent.id, AuditEvent.seq)).all())
    return [numbers[event_id] for event_id in ids]


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
        # Committed, they wait to be chained: verify counts them, and is content.
        events = [audit.record(AuditKind.ROLE_CHANGED, n=n) for n in ("a", "b")]
        db.session.commit()
        ids = [event.id for event in events]
    assert _numbers(app, ids) == [None, None]
    assert _verify(app) == (
        0,
        "The audit trail is intact: 3 event(s) checked; 2 recent event(s) wait to be chained\n",
    )
    # Chained in the order they were recorded.
    assert _chain(app) == "Chained 2 audit event(s)\n"
    assert _numbers(app, ids) == [4, 5]
    assert _verify(app) == (0, "The audit trail is intact: 5 event(s) checked\n")
    assert _chain(app) == "Chained 0 audit event(s)\n"


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
    """Dated hours ago, it cannot be one waiting to be chained."""
    _events(app, 2)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            insert(AuditEvent).values(
                id=uuid.uuid4(),
                occurred_at=utcnow() - audit_chain.WAITING_GRACE - timedelta(minutes=1),
                kind=AuditKind.SIGNED_OUT,
                detail={},
            )
        )
    code, output = _verify(app)
    assert code == 1
    assert "1 event(s) recorded more than 2 hours ago are outside the chain" in output


def test_a_request_chains_what_waits_after_its_response(make_app: Callable[..., Flask]) -> None:
    """Once the response has gone; then not again for ``audit_chain_every`` seconds, so a
    busy worker chains a batch at a time."""
    app = make_app(audit_chain_every=3600)
    _one_event(app)  # recorded by a command: it waits
    client = app.test_client()
    wrong = {"email": "nobody@example.com", "password": "not the password"}
    client.submit("/sign-in", wrong)  # records a failed sign-in
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all() == [
            1,
            2,
        ]
    client.post_form("/sign-in", wrong)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) == 1
    assert _chain(app) == "Chained 1 audit event(s)\n"


def test_events_from_many_requests_at_once_make_one_unbroken_chain(app: Flask) -> None:
    """Eight threads, each with its own connection, recording and chaining at the same
    time, as busy workers do."""

    def record_some() -> None:
        with app.app_context():
            for n in range(10):
                audit.record(AuditKind.ROLE_CHANGED, n=n)
                db.session.commit()
                audit_chain.chain_waiting(db.engine)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(record_some) for _ in range(8)]:
            future.result()
    with app.app_context():
        numbers = db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert numbers == list(range(1, 81))
    assert _verify(app)[0] == 0
