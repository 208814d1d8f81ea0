"""Finding a person again by name and date of birth among a million, on PostgreSQL.

    .venv/bin/python -m benchmarks.blind_index_lookup

1,000,000 subjects, their names and dates of birth sealed, each with a 16-bit person
index entry (a bucket holds about 15 people, so a look-up has about 16 candidates). A
look-up is what the portal does when a contact arrives (``keystore.find_ids``): the index
entries for the typed date and name under every index key and the candidates' sealed
fields in one query, then their dates of birth decrypted and compared (names only where
the date matches). It is timed for 2,000 people known to be there, and 500 who are not;
first with the data in the operating system's page cache only, then with it in
PostgreSQL's shared buffers (1 GB, as a server with RAM to spare would have).

Goal (issue 4): p95 < 1 ms, including the confirming decryption.
"""

from __future__ import annotations

import datetime
import io
import itertools
import os
import random
import sys
import time
import uuid
from typing import cast

from sqlalchemy import Table, text
from sqlalchemy.orm import Mapped, mapped_column

from benchmarks.common import BenchBase, bench_app, databases, percentile, timed
from portal import keystore
from portal.crypto.blind_index import BlindIndex, normalise_date, normalise_name
from portal.crypto.fields import DATE, TEXT, OwnerSpec, encrypted
from portal.crypto.keys import KeyOwner
from portal.extensions import db

SUBJECTS = int(os.environ.get("BENCH_SUBJECTS", "1000000"))
# Date of birth first: confirming it rules out nearly every other candidate in the bucket,
# so their names need not be decrypted.
PERSON = BlindIndex(
    "bench.person", ("date_of_birth", "name"), (normalise_date, normalise_name), bits=16
)
# Syllables that combine into 500 given names and 2,000 family names, so that many
# subjects share a name as they would in a real authority.
# fmt: off
GIVEN_STARTS = ("Al", "Be", "Ca", "Da", "El", "Fa", "Ga", "Ha", "Is", "Jo",
                "Ka", "Le", "Ma", "Na", "Ol", "Pa", "Ra", "Sa", "Ta", "Zo")
GIVEN_ENDS = ("ex", "ia", "on", "ie", "an", "ma", "ry", "la", "na", "ek", "is", "ta", "mo",
              "ri", "el", "ya", "ko", "ne", "by", "de", "sa", "lo", "ve", "xa", "ck")
FAMILY_STARTS = ("Smi", "Jon", "Wil", "Bro", "Tay", "Dav", "Eva", "Tho", "Joh", "Rob",
                 "Wal", "Wri", "Gre", "Hal", "Woo", "Whi", "Ken", "Mar", "Cla", "Lew")
FAMILY_MIDDLES = ("th", "es", "so", "wn", "lo", "ie", "ns", "ma", "bert", "ker")
FAMILY_ENDS = ("", "on", "-Smith", "ley", "er", "s", "ham", "ford", "ton", "ell")
# fmt: on
FIRST = [a + b for a, b in itertools.product(GIVEN_STARTS, GIVEN_ENDS)]
LAST = [a + b + c for a, b, c in itertools.product(FAMILY_STARTS, FAMILY_MIDDLES, FAMILY_ENDS)]


class BenchSubject(BenchBase):
    __tablename__ = "bench_subjects"
    __encryption_owner__ = OwnerSpec.authority()

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    authority_id: Mapped[uuid.UUID]
    name = encrypted(TEXT, nullable=False)
    date_of_birth = encrypted(DATE, nullable=False)


def person(rng: random.Random) -> tuple[str, datetime.date]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(58 * 365))
    return name, born


def load(authority_id: uuid.UUID, people: list[tuple[uuid.UUID, str, datetime.date]]) -> None:
    """COPY the sealed rows and their index entries straight in (the ORM would take an
    hour for a million; what is written is the same)."""
    manager = keystore.keys()
    owner = KeyOwner.authority(authority_id)
    ring = keystore.keyring()
    # The authority's key exists before its data, as it would in the portal: made and
    # committed now, not inside the bulk load's own transactions.
    manager.primary_key_id(owner)
    db.session.commit()
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for start in range(0, len(people), 50000):
            chunk = people[start : start + 50000]
            subjects = io.StringIO()
            entries = io.StringIO()
            for subject_id, name, born in chunk:
                sealed_name = manager.seal(
                    owner, "bench_subjects", "name", subject_id, name.encode()
                )
                sealed_born = manager.seal(
                    owner, "bench_subjects", "date_of_birth", subject_id, born.isoformat().encode()
                )
                subjects.write(
                    f"{subject_id}\t{authority_id}\t\\\\x{sealed_name.hex()}\t"
                    f"\\\\x{sealed_born.hex()}\n"
                )
                for key_id, digest in PERSON.digests(ring, [born, name]):
                    entries.write(
                        f"{PERSON.kind}\t{subject_id}\t{key_id}\t\\\\x{digest.hex()}\tf\n"
                    )
            with cursor.copy(
                "COPY bench_subjects (id, authority_id, name, date_of_birth) FROM STDIN"
            ) as copy:
                copy.write(subjects.getvalue())
            with cursor.copy(
                "COPY blind_indexes (kind, owner_id, index_key_id, digest, is_unique) FROM STDIN"
            ) as copy:
                copy.write(entries.getvalue())
            raw.commit()
        # As autovacuum would after a load: done now, so it does not run during the timing.
        raw.driver_connection.autocommit = True
        cursor.execute("VACUUM ANALYZE bench_subjects")
        cursor.execute("VACUUM ANALYZE blind_indexes")
        raw.driver_connection.autocommit = False
    finally:
        raw.close()


def look_up(name: str, born: datetime.date) -> list[uuid.UUID]:
    """Candidates from the index, confirmed by decryption."""
    return keystore.find_ids(BenchSubject, PERSON, name=name, date_of_birth=born)


def prewarm() -> None:
    """Load the tables and their indexes into PostgreSQL's shared buffers, as on a server
    that has been answering look-ups for a while."""
    db.session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
    for relation in ("bench_subjects", "bench_subjects_pkey", "blind_indexes"):
        db.session.execute(text("SELECT pg_prewarm(:relation)"), {"relation": relation})
    db.session.execute(text("SELECT pg_prewarm('ix_blind_indexes_lookup')"))
    db.session.commit()


def timed_look_ups(
    present: list[tuple[uuid.UUID, str, datetime.date]], absent: list[tuple[str, datetime.date]]
) -> tuple[list[float], list[float], int]:
    """Seconds per look-up of the people there (typed differently) and of people who are
    not, and how many of the first were found."""
    times, missing_times, found = [], [], 0
    for subject_id, person_name, born in present:
        typed = person_name.upper().replace(" ", "  ")
        db.session.expunge_all()  # nothing from the last look-up; the connection stays
        begin = time.perf_counter()
        matches = look_up(typed, born)
        times.append(time.perf_counter() - begin)
        found += subject_id in matches
    for person_name, born in absent:
        db.session.expunge_all()
        begin = time.perf_counter()
        look_up(person_name, born + datetime.timedelta(days=1))
        missing_times.append(time.perf_counter() - begin)
    return times, missing_times, found


def report(label: str, times: list[float]) -> None:
    print(
        f"  {label:30} p50 {percentile(times, 0.5) * 1e3:5.3f} ms   "
        f"p95 {percentile(times, 0.95) * 1e3:5.3f} ms   "
        f"p99 {percentile(times, 0.99) * 1e3:5.3f} ms"
    )


def run(name: str, url: str) -> None:
    app = bench_app(url)
    table = cast(Table, BenchSubject.__table__)
    with app.app_context():
        table.drop(db.engine, checkfirst=True)
        table.create(db.engine)
        rng = random.Random(2026)
        authority_id = uuid.uuid4()
        people = [(uuid.uuid4(), *person(rng)) for _ in range(SUBJECTS)]
        start = time.perf_counter()
        load(authority_id, people)
        print(
            f"\n{name}: {SUBJECTS:,} subjects sealed and indexed in "
            f"{time.perf_counter() - start:.0f} s"
        )
        present = rng.sample(people, 2000)
        absent = [person(random.Random(seed)) for seed in range(500)]
        sizes = [
            len(keystore.candidates(PERSON, name=name, date_of_birth=born))
            for _, name, born in present
        ]
        print(f"  {sum(sizes) / len(sizes):.1f} candidates per look-up on average")
        # First from the operating system's page cache (as just after a restart), then
        # with the tables in shared buffers (a server that has been running).
        cold, cold_missing, _ = timed_look_ups(present, absent)
        prewarm()
        times, missing_times, found = timed_look_ups(present, absent)
        # This machine's floor, to read the figures against: an empty round trip.
        connection = db.session.connection()
        round_trip = timed(lambda: connection.execute(text("SELECT 1")).all(), 2000)
        db.engine.dispose()
    print(f"  found {found} of {len(present)}")
    report("present, cold shared buffers", cold)
    report("absent, cold shared buffers", cold_missing)
    report("present", times)
    report("absent", missing_times)
    report("(SELECT 1 round trip)", round_trip)


def main() -> int:
    with databases(("postgresql",), "-c shared_buffers=1GB") as found:
        for name, url in found:
            run(name, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
