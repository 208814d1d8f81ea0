"""The audit trail as a hash chain: each event carries SHA-256 over the previous event's
hash and its own fields, and the head row holds the last link. The triggers already stop
the application changing an event; the chain is for what they cannot stop (someone with
the database owner's rights dropping them): ``flask audit verify`` finds an event changed,
removed from the middle or from the end, or added by hand.

Events are chained after they commit, in batches, not inside the request that records
them: a lock on the head at every commit made each request wait for the others' commits.
After a response whose request recorded events, the worker chains every committed event
still waiting (at most once every ``Settings.audit_chain_every`` seconds, so a busy
worker chains many in one go); ``flask audit chain`` and the hourly housekeeping chain
whatever is left when nobody is using the portal. The triggers allow one change to an
event: being given its number and hash, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, cast

from flask import Flask, Response
from sqlalchemy import Connection, Engine, Table, bindparam, event, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import AuditChainHead, AuditEvent
from portal.models.base import insert_unless_exists, utcnow

EVENTS = cast(Table, AuditEvent.__table__)
HEAD = cast(Table, AuditChainHead.__table__)
HEAD_ID = 1
# The hash "before" the first event.
GENESIS = "0" * 64
# The fields an event is hashed over, in this order (format 1: changing it means
# hashing the trail again in a migration).
CHAINED = (
    "id",
    "occurred_at",
    "kind",
    "actor_id",
    "authority_id",
    "organisation_id",
    "target_user_id",
    "case_id",
    "address_hash",
    "detail",
)
# Set on a session whose request has recorded events.
_WRITTEN = "portal.audit_events_written"
# Events may wait this long to be chained before verify calls them a problem: hourly
# housekeeping chains what the requests left.
WAITING_GRACE = timedelta(hours=2)
PROBLEMS_SHOWN = 20
log = logging.getLogger(__name__)


def link(previous: str, seq: int, fields: Mapping[Any, Any]) -> str:
    """The hash of an event: its number, its fields (canonical JSON) and the last hash."""
    values = [seq, *(_canonical(name, fields[name]) for name in CHAINED)]
    payload = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{previous}\x1f{payload}".encode()).hexdigest()


def _canonical(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "occurred_at":
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if name == "kind":
        return str(getattr(value, "value", value))
    return value


def chain_unchained(connection: Connection, limit: int | None = None) -> int:
    """Number and hash the events that have none yet, oldest first, after the head (at
    most ``limit``), and move the head. The head is locked before the events are read:
    they are then the committed ones no other chainer has taken. Returns how many."""
    seq, previous = _lock_head(connection)
    rows = connection.execute(
        select(*(EVENTS.c[name] for name in CHAINED))
        .where(EVENTS.c.seq.is_(None))
        .order_by(EVENTS.c.occurred_at, EVENTS.c.id)
        .limit(limit)
    ).mappings()
    links = []
    for row in rows:
        seq += 1
        previous = link(previous, seq, row)
        links.append({"event_id": row["id"], "new_seq": seq, "new_hash": previous})
    if links:
        connection.execute(
            update(EVENTS)
            .where(EVENTS.c.id == bindparam("event_id"))
            .values(seq=bindparam("new_seq"), chain_hash=bindparam("new_hash")),
            links,
        )
        connection.execute(
            update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=seq, chain_hash=previous)
        )
    return len(links)


def chain_waiting(engine: Engine, batch: int = 5000) -> int:
    """Chain every committed event still waiting, a batch to a transaction. Several
    workers may run it at once: each waits for the head's lock, then finds only what the
    others left."""
    total = 0
    while True:
        with engine.begin() as connection:
            chained = chain_unchained(connection, limit=batch)
        total += chained
        if chained < batch:
            return total


def _lock_head(connection: Connection) -> tuple[int, str]:
    """The head's last number and hash, locked for this transaction: an UPDATE takes the
    row lock on PostgreSQL and the write lock on SQLite, and returns what it locked."""
    touch = (
        update(HEAD)
        .where(HEAD.c.id == HEAD_ID)
        .values(seq=HEAD.c.seq)
        .returning(HEAD.c.seq, HEAD.c.chain_hash)
    )
    row = connection.execute(touch).first()
    if row is None:
        # A new database (or one emptied by TRUNCATE, as the tests do).
        connection.execute(
            insert_unless_exists(connection, HEAD).values(id=HEAD_ID, seq=0, chain_hash=GENESIS)
        )
        row = connection.execute(touch).one()
    return int(row.seq), str(row.chain_hash)


# The request's side: note that a flush wrote events; after the response, chain them.


@event.listens_for(Session, "after_flush")
def _note_new_events(session: Session, _context: Any) -> None:
    if any(isinstance(row, AuditEvent) for row in session.new):
        session.info[_WRITTEN] = True


def install(app: Flask, every: float) -> None:
    """After a response whose request recorded events, once it has been sent (the WSGI
    server's close), chain what waits: at most once every ``every`` seconds in a worker,
    so a busy one chains many in one go. (The time kept is only a pace: any worker, or
    cron, may chain at any time.)"""
    last_chained = [float("-inf")]

    @app.after_request
    def _chain_after_response(response: Response) -> Response:
        written = db.session.info.pop(_WRITTEN, False)
        if written and time.monotonic() - last_chained[0] >= every:
            last_chained[0] = time.monotonic()
            response.call_on_close(lambda: _chain_quietly(app))
        return response


def _chain_quietly(app: Flask) -> None:
    """The response has gone: a failure here is logged (the next run chains what is
    left), never shown to anyone."""
    try:
        with app.app_context():
            chain_waiting(db.engine)
    except SQLAlchemyError as error:
        log.warning("Audit events left waiting to be chained: %s", type(error).__name__)


# Checking the chain


@dataclass
class Verdict:
    checked: int
    problems: list[str]
    waiting: int = 0  # recent events not chained yet: not a problem

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(connection: Connection, batch: int = 5000) -> Verdict:
    """Walk the chain from the first event and say where it breaks. After a changed
    event every later link still holds, so each problem is named once."""
    problems: list[str] = []
    expected, previous, checked = 1, GENESIS, 0
    for row in _events_in_order(connection, batch):
        checked += 1
        if row["seq"] > expected:
            problems.append(
                f"{row['seq'] - expected} event(s) missing before number {row['seq']} "
                f"(numbers {expected} to {row['seq'] - 1})"
            )
        elif link(previous, row["seq"], row) != row["chain_hash"]:
            problems.append(f"event number {row['seq']} (id {row['id']}) has been changed")
        previous, expected = row["chain_hash"], row["seq"] + 1
        if len(problems) >= PROBLEMS_SHOWN:
            return Verdict(checked, problems)
    head = connection.execute(select(HEAD.c.seq, HEAD.c.chain_hash)).first()
    last = expected - 1
    if head is not None and head.seq > last:
        problems.append(
            f"{head.seq - last} event(s) missing from the end "
            f"(the last is number {last}; the chain's head says {head.seq})"
        )
    elif head is not None and head.seq == last and head.chain_hash != previous:
        problems.append(f"the last event (number {last}) does not match the chain's head")
    cutoff = utcnow() - WAITING_GRACE  # one moment, so no event is counted twice
    waiting = func.count().filter(EVENTS.c.occurred_at >= cutoff)
    stale = func.count().filter(EVENTS.c.occurred_at < cutoff)
    unchained = connection.execute(
        select(waiting.label("waiting"), stale.label("stale")).where(EVENTS.c.seq.is_(None))
    ).one()
    if unchained.stale:
        problems.append(
            f"{unchained.stale} event(s) recorded more than {_hours(WAITING_GRACE)} ago are "
            "outside the chain (with no number): added by hand, or nothing has chained them "
            "(flask audit chain)"
        )
    return Verdict(checked, problems, waiting=int(unchained.waiting or 0))


def _hours(span: timedelta) -> str:
    hours = span // timedelta(hours=1)
    return f"{hours} hour{'' if hours == 1 else 's'}"


def _events_in_order(connection: Connection, batch: int) -> Iterator[dict[str, Any]]:
    """Every chained event by its number, read in batches by keyset (no OFFSET)."""
    after = 0
    while True:
        page = [
            dict(row)
            for row in connection.execute(
                select(EVENTS).where(EVENTS.c.seq > after).order_by(EVENTS.c.seq).limit(batch)
            ).mappings()
        ]
        if not page:
            return
        yield from page
        after = page[-1]["seq"]
