"""The audit trail as a hash chain: each event carries SHA-256 over the previous event's
hash and its own fields, and the head row holds the last link. The triggers already stop
the application changing an event; the chain is for what they cannot stop (someone with
the database owner's rights dropping them): ``flask audit verify`` finds an event changed,
removed from the middle or from the end, or added by hand.

Events are chained as their transaction commits, under the head row's lock, so they are
numbered in commit order and the lock is held only for the commit itself: taken earlier,
two requests on one case could each wait for the other's lock. The triggers allow one
change to an event: being given its number and hash, once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, event, inspect, select, update
from sqlalchemy.orm import Session

from portal.models import AuditChainHead, AuditEvent
from portal.models.base import insert_unless_exists

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
# A session's events flushed in this transaction and not yet chained.
_PENDING = "portal.audit_events_to_chain"
PROBLEMS_SHOWN = 20


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


def chain_unchained(connection: Connection) -> int:
    """Number and hash every event that has none yet (the migration's chaining of the
    trail that was there before the chain), after the head. Returns how many."""
    rows = connection.execute(
        select(*(EVENTS.c[name] for name in CHAINED))
        .where(EVENTS.c.seq.is_(None))
        .order_by(EVENTS.c.occurred_at, EVENTS.c.id)
    ).mappings()
    return chain(connection, list(rows))


def chain(connection: Connection, events: Sequence[Mapping[Any, Any]]) -> int:
    """Number and hash these events (their fields, in this order) after the head, and
    move the head, under its lock. Returns how many were chained."""
    if not events:
        return 0
    seq, previous = _lock_head(connection)
    links = []
    for fields in events:
        seq += 1
        previous = link(previous, seq, fields)
        links.append({"event_id": fields["id"], "new_seq": seq, "new_hash": previous})
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


# The session's side: keep the events each flush wrote, chain them as it commits. They
# are hashed from the objects as written, without reading them back.


@event.listens_for(Session, "after_flush")
def _note_new_events(session: Session, _context: Any) -> None:
    written = [row for row in session.new if isinstance(row, AuditEvent)]
    if written:
        session.info.setdefault(_PENDING, []).extend(written)


@event.listens_for(Session, "before_commit")
def _chain_before_commit(session: Session) -> None:
    session.flush()  # before_commit runs before the commit's own flush
    written = session.info.pop(_PENDING, [])
    # Still there: not undone by the rollback of a savepoint.
    kept = [row for row in written if inspect(row).persistent]
    if kept:
        fields = [{name: getattr(row, name) for name in CHAINED} for row in kept]
        fields.sort(key=lambda each: (each["occurred_at"], each["id"]))
        chain(session.connection(), fields)


@event.listens_for(Session, "after_rollback")
def _forget_new_events(session: Session) -> None:
    session.info.pop(_PENDING, None)


# Checking the chain


@dataclass
class Verdict:
    checked: int
    problems: list[str]

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
    unchained = connection.execute(
        select(EVENTS.c.id).where(EVENTS.c.seq.is_(None)).limit(1)
    ).first()
    if unchained is not None:
        problems.append("there are events outside the chain (with no number): added by hand")
    return Verdict(checked, problems)


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
