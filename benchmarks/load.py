"""A busy Monday morning: LADO staff working the queue and partners sending referrals at
once, to gunicorn + PostgreSQL on 127.0.0.1 over 100,000 cases; then a step test that
adds people until the 95th percentile passes 200 ms: the capacity of one machine.

    .venv/bin/python -m benchmarks.load

A throwaway PostgreSQL with `flask demo-data --cases BENCH_CASES` (100,000 by default:
about 10 minutes on 2 cores), or BENCH_INSTANCE and BENCH_DATABASE_URL to use data
loaded already (see benchmarks/casework_queue.py). PostgreSQL runs as deployed: fsync
and synchronous commit on. gunicorn runs BENCH_WORKERS sync workers (default 4).

1. The morning: BENCH_LADOS LADO staff (default 50), each signed in with password and
   TOTP, opening a queue page or a case page and then reading it for 3 to 8 seconds;
   and BENCH_PARTNERS partners (default 50), each writing referrals page by page with
   2 to 6 seconds on each page, adding a child and a 200 KB PDF, then sending (one in
   ten presses Send twice). For BENCH_DURATION seconds (default 600), BENCH_MORNINGS
   times (default 1): one run on a shared machine can be 20% off the next, so with
   several, each page's median p95 across them is given too. Between mornings the
   referrals sent are closed in the database, so each morning's queue is as long as
   the first's.
2. The step test: the same mix, half staff and half partners, starting at BENCH_STEP
   people (default 20) and adding BENCH_STEP more every BENCH_STEP_SECONDS (default
   60), until the 95th percentile of a step's requests passes 200 ms, 1% of them fail,
   or BENCH_MOST people (default 1,000) are reached. Each step's new accounts are made
   and signed in before the step is timed.

Then the database is checked: every referral a partner saw sent is there once, with its
reference, its audit event and its acknowledgement; none lost, none duplicated.

Figures (p50, p95, p99 per page, requests per second, errors, capacity) are printed and
written to BENCH_OUTPUT (default benchmarks/results/load.txt). The load generator runs
on the same 2 cores as the server and the database, so the figures include its share. Its
people are threads in processes of ten, as a person at a browser does not wait for a
hundred others to read their pages. Before each morning, a fixed piece of Python work is
timed: this shared machine's speed changes from minute to minute, and the figures with it.

Goals (issue 11): p95 < 50 ms on the queue and < 150 ms on a submit, 0 errors, 0 lost
or duplicated submissions. Printed, never asserted.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import multiprocessing
import os
import random
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier as BarrierType
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, update

from benchmarks.casework_queue import STAFF_WEIGHTS, staff_pages
from benchmarks.common import median, percentile
from benchmarks.referral_submission import refer
from benchmarks.server import (
    PASSWORD,
    WORKERS,
    Browser,
    count_cases,
    flask,
    gunicorn,
    instance,
    open_cases,
    reused_instance,
    seed,
    vacuum,
)
from portal.demo_cases import FIRST_NAMES, LAST_NAMES
from portal.models import AuditEvent, AuditKind, Case, CaseStatus, OutboxMessage
from tests.postgres import create_database, throwaway_server
from tests.referrals import journey

CASES = int(os.environ.get("BENCH_CASES", "100000"))
LADOS = int(os.environ.get("BENCH_LADOS", "50"))
PARTNERS = int(os.environ.get("BENCH_PARTNERS", "50"))
DURATION = float(os.environ.get("BENCH_DURATION", "600"))
MORNINGS = int(os.environ.get("BENCH_MORNINGS", "1"))
STEP = int(os.environ.get("BENCH_STEP", "20"))
STEP_SECONDS = float(os.environ.get("BENCH_STEP_SECONDS", "60"))
MOST = int(os.environ.get("BENCH_MOST", "1000"))
OUTPUT = Path(os.environ.get("BENCH_OUTPUT", "benchmarks/results/load.txt"))
CAPACITY_P95 = 0.200
PEOPLE_IN_A_PROCESS = 10
DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=1GB"

# Run in its own process with the gunicorn environment, so the accounts are made by the
# same settings (and password hashing) the server uses.
SEED = """
import sys, uuid
from sqlalchemy import select
from portal import create_app
from portal.auth import passwords
from portal.extensions import db
from portal.models import (Authority, Membership, Organisation, OrganisationAuthority,
    Role, User, utcnow)
from portal.vocabulary import OrganisationType, SectorGroup

count, password, run = int(sys.argv[1]), sys.argv[2], sys.argv[3]
staff_count, organisations = int(sys.argv[4]), int(sys.argv[5])
app = create_app()
with app.app_context():
    authorities = db.session.scalars(select(Authority).order_by(Authority.created_at)).all()
    places = []
    for number in range(organisations):
        place = Organisation(id=uuid.uuid4(), name=f"Load School {run} {number}",
            type=OrganisationType.EDUCATION, sector=SectorGroup.EDUCATION)
        db.session.add(place)
        db.session.add(OrganisationAuthority(organisation_id=place.id,
            authority_id=authorities[0].id, manages_accounts=True))
        places.append(place)
    hashed, now = passwords.hash_password(password), utcnow()
    for number in range(count):
        secret = sys.stdin.readline().strip()
        staff = number < staff_count
        user = User(id=uuid.uuid4(), email=f"load{number}.{run}@bench.example",
            full_name=f"Load Person {number}", password_hash=hashed,
            password_changed_at=now, totp_secret=secret, mfa_enrolled_at=now)
        if staff:
            authority = authorities[number % len(authorities)]
            user.memberships.append(Membership(role=Role.LADO, authority_id=authority.id))
            print(user.id, user.email, "staff", authority.id)
        else:
            place = places[number % organisations]
            user.memberships.append(Membership(role=Role.PARTNER_MEMBER, organisation_id=place.id))
            print(user.id, user.email, "partner", place.id, authorities[0].id)
        db.session.add(user)
    db.session.commit()
"""


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str
    totp_secret: str
    staff: bool
    place: str  # the authority's id (staff) or the organisation's (partner)
    refers_to: str = ""  # a partner's authority


@dataclass
class Tally:
    """What the people did, gathered from their processes: each request's time by page,
    the errors, and the referrals each partner saw sent."""

    timings: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[float, str]] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, record: tuple[Any, ...]) -> None:
        """One record from a person's process (see ``Reporter``)."""
        with self.lock:
            match record:
                case ("took", label, began, took):
                    self.timings[label].append((began, took))
                case ("failed", at, what):
                    self.errors.append((at, what))
                case ("sent", case_id):
                    self.sent.append(case_id)

    def between(self, start: float, end: float) -> dict[str, list[float]]:
        """Seconds per request, by page, for requests that began in [start, end)."""
        with self.lock:
            return {
                label: [took for began, took in values if start <= began < end]
                for label, values in self.timings.items()
            }

    def errors_between(self, start: float, end: float) -> list[str]:
        with self.lock:
            return [error for at, error in self.errors if start <= at < end]


class Reporter:
    """A person's process's side of the tally: records go to the parent on a queue (the
    monotonic clock is the machine's, so the parent can compare their times)."""

    def __init__(self, records: Queue[tuple[Any, ...] | None]) -> None:
        self.records = records

    def took(self, label: str, began: float, took: float) -> None:
        self.records.put(("took", label, began, took))

    def failed(self, what: str, error: Exception) -> None:
        self.records.put(("failed", time.monotonic(), f"{what}: {error}"))

    def sent(self, case_id: str) -> None:
        self.records.put(("sent", case_id))


class TimedBrowser(Browser):
    """A Browser whose timings go to the tally with the time each began."""

    def __init__(self, base: str, reporter: Reporter) -> None:
        super().__init__(base, defaultdict(list), [])
        self.reporter = reporter

    def record(self, label: str, began: float, took: float) -> None:
        self.reporter.took(label, began, took)


def _seed(env: dict[str, str], staff: int, partners: int) -> list[Person]:
    """New accounts: ``staff`` LADOs, shared between the demo's two authorities, and
    ``partners`` in new schools (one for every five) that refer to the first. Made as
    they are needed, so that the authorities have the staff a real one would (the
    queue's officer list grows with them)."""
    run = uuid.uuid4().hex[:8]
    people = []
    schools = str(max(1, partners // 5))
    for words, secret in seed(env, SEED, staff + partners, PASSWORD, run, str(staff), schools):
        user_id, email, kind, place, *rest = words
        people.append(Person(user_id, email, secret, kind == "staff", place, *rest))
    return people


def _person(
    base: str,
    person: Person,
    cases: dict[str, list[str]],
    reporter: Reporter,
    signed_in: BarrierType,
    stop: EventType,
    number: int,
) -> None:
    """One person at a browser until ``stop``: staff read pages, partners refer."""
    rng = random.Random(number)
    browser = TimedBrowser(base, reporter)
    try:
        browser.sign_in(person.email, PASSWORD, person.totp_secret)
    except Exception as error:  # counted and printed, not raised
        reporter.failed(f"{person.email} sign-in", error)
        return
    finally:
        signed_in.wait()
    stop.wait(rng.uniform(0, 5))  # not all at the same instant
    if person.staff:
        pages = staff_pages(person.place, cases[person.place])
        labels, weights = list(STAFF_WEIGHTS), list(STAFF_WEIGHTS.values())
        while not stop.is_set():
            label = rng.choices(labels, weights=weights)[0]
            try:
                browser.page(label, pages[label](rng))
            except Exception as error:
                reporter.failed(label, error)
            stop.wait(rng.uniform(3, 8))
        return

    def pause() -> None:
        if stop.wait(rng.uniform(2, 6)):
            raise _StoppedError

    while not stop.is_set():
        try:
            case = refer(
                browser,
                person.place,
                person.refers_to,
                pause,
                twice=rng.random() < 0.1,
                subject=_someone(rng),
            )
        except _StoppedError:
            return
        except Exception as error:
            reporter.failed("referral", error)
            stop.wait(rng.uniform(2, 6))
            continue
        reporter.sent(case.rsplit("/", 1)[1])
        stop.wait(rng.uniform(5, 15))  # the next one


def _someone(rng: random.Random) -> dict[str, Any]:
    """A different person each time, as in life: the same one in every referral would
    make each case's earlier contacts the whole benchmark."""
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(42 * 365))
    return {
        **journey.SUBJECT,
        "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "date_of_birth": [str(born.day), str(born.month), str(born.year)],
    }


class _StoppedError(Exception):
    """The run ended while a partner was part way through a referral (left a draft)."""


def _people_at_work(
    base: str,
    people: list[tuple[Person, int]],
    cases: dict[str, list[str]],
    records: Queue[tuple[Any, ...] | None],
    signed_in: BarrierType,
    stop: EventType,
) -> None:
    """A process of a few people, each in a thread of their own, until ``stop``."""
    reporter = Reporter(records)
    threads = [
        threading.Thread(
            target=_person, args=(base, person, cases, reporter, signed_in, stop, number)
        )
        for person, number in people
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@contextlib.contextmanager
def crowd(
    base: str, people: list[Person], cases: dict[str, list[str]], tally: Tally, first: int = 0
) -> Iterator[Callable[[list[Person]], None]]:
    """People at work until the block ends; the callable adds more (they sign in before
    it returns).

    Every PEOPLE_IN_A_PROCESS people share a process: people at their own browsers do not
    take turns at one Python lock, and with all of them in one process they did. That
    turn-taking also spaced their requests out. In processes, the generator's times are
    still about 9 ms above the server's at p95 (stop 21): the gap is the wait for a core
    to read the response on, not the lock."""
    spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
    records: Queue[tuple[Any, ...] | None] = spawn.Queue()
    stop = spawn.Event()
    processes: list[BaseProcess] = []
    numbers = itertools.count(first + 1)  # each person's random choices, repeatable

    def gather() -> None:
        while (record := records.get()) is not None:
            tally.take(record)

    gatherer = threading.Thread(target=gather)
    gatherer.start()

    def add(more: list[Person]) -> None:
        signed_in = spawn.Barrier(len(more) + 1)
        numbered = [(person, next(numbers)) for person in more]
        for at in range(0, len(numbered), PEOPLE_IN_A_PROCESS):
            group = numbered[at : at + PEOPLE_IN_A_PROCESS]
            process = spawn.Process(
                target=_people_at_work,
                args=(base, group, cases, records, signed_in, stop),
                daemon=True,
            )
            process.start()
            processes.append(process)
        signed_in.wait()  # everyone new has signed in (or failed to)

    try:
        add(people)
        yield add
    finally:
        stop.set()
        for process in processes:
            process.join(timeout=180)
        records.put(None)  # after every process's records: they are in before it ends
        gatherer.join()


def _row(label: str, values: list[float]) -> str:
    return (
        f"  {label:<28} {len(values):>6} {percentile(values, 0.5) * 1000:>8.1f} "
        f"{percentile(values, 0.95) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f} "
        f"{max(values) * 1000:>8.1f}\n"
    )


def _table(timings: dict[str, list[float]], seconds: float, out: io.StringIO) -> None:
    out.write(f"  {'page':<28} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}\n")
    for label, values in sorted(timings.items()):
        if values:
            out.write(_row(label, values))
    everything = [t for values in timings.values() for t in values]
    if everything:
        out.write(_row("all requests", everything))
    out.write(f"  requests per second: {len(everything) / seconds:.1f}\n")


SIGN_IN = ("GET  sign in", "POST sign in", "GET  security code", "POST security code")


def _working(timings: dict[str, list[float]]) -> dict[str, list[float]]:
    """The pages of the work itself: signing in (Argon2, slow on purpose) apart."""
    return {label: values for label, values in timings.items() if label not in SIGN_IN}


def _server_times(log: Path, start: int, end: int) -> dict[str, list[float]]:
    """The requests gunicorn logged between two sizes of its access log: their times in
    the server, by the label the load generator sent."""
    with log.open("rb") as file:
        file.seek(start)
        lines = file.read(end - start).decode().splitlines()
    timings: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        label, _, microseconds = line.rpartition("\t")
        if label and label != "-":
            timings[label].append(int(microseconds) / 1_000_000)
    return timings


def machine_speed() -> str:
    """Milliseconds for a fixed piece of Python work, five times, with nothing else running:
    this shared machine's speed changes from one minute to the next (the same work took
    150 to 340 ms when it was idle, stop 21), and a slow minute slows every page."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        sum(number * number for number in range(3_000_000))
        times.append((time.perf_counter() - start) * 1000)
    return f"{median(times):.0f} ms (from {min(times):.0f} to {max(times):.0f})"


def morning(
    base: str,
    people: list[Person],
    cases: dict[str, list[str]],
    out: io.StringIO,
    run: int,
    server_log: Path,
) -> tuple[Tally, dict[str, list[float]], dict[str, list[float]]]:
    """The morning's tally, and its pages' times as the load generator saw them and as
    the server did."""
    tally = Tally()
    staff = sum(p.staff for p in people)
    speed = machine_speed()
    with crowd(base, people, cases, tally):
        start, logged_before = time.monotonic(), server_log.stat().st_size
        time.sleep(DURATION)
        end, logged_after = time.monotonic(), server_log.stat().st_size
    timings = _working(tally.between(start, end))
    in_server = _working(_server_times(server_log, logged_before, logged_after))
    which = f" (run {run} of {MORNINGS})" if MORNINGS > 1 else ""
    out.write(
        f"1. The morning{which}: {staff} LADO staff and {len(people) - staff} partners for "
        f"{DURATION:.0f} s (think time: staff 3-8 s a page, partners 2-6 s a page)\n"
        f"  the machine just before: a fixed piece of Python work took {speed}\n"
    )
    _table(timings, end - start, out)
    out.write(
        "  The same requests as the server timed them (gunicorn's access log: without the "
        "network\n  and the load generator's own delays):\n"
    )
    _table(in_server, end - start, out)
    errors = tally.errors_between(0, float("inf"))
    out.write(f"  errors: {len(errors)}\n")
    for error in errors[:10]:
        out.write(f"    {error}\n")
    out.write(f"  referrals sent: {len(tally.sent)}\n")
    return tally, timings, in_server


def median_p95s(runs: list[dict[str, list[float]]], seen_by: str, out: io.StringIO) -> None:
    """Each page's p95 in every morning, and their median."""
    out.write(f"  p95 {seen_by} in each of the {len(runs)} mornings, and the median:\n")
    for label in sorted(set().union(*runs)):
        p95s = [percentile(run[label], 0.95) * 1000 for run in runs if run.get(label)]
        each = " ".join(f"{value:>6.1f}" for value in p95s)
        out.write(f"  {label:<28} {each}   median {median(p95s):.1f} ms\n")


def step_test(
    env: dict[str, str], base: str, cases: dict[str, list[str]], out: io.StringIO
) -> tuple[list[Person], Tally]:
    """People, a step at a time, until p95 passes 200 ms; the capacity (the most that
    stayed under) is written out. The partners it made, and what they all did."""
    tally = Tally()
    out.write(
        f"2. Step test: {STEP} more people every {STEP_SECONDS:.0f} s, half staff and half "
        "partners, until p95 passes 200 ms\n"
    )
    out.write(
        f"  {'people':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}\n"
    )
    capacity = 0
    everyone = _seed(env, STEP // 2, STEP - STEP // 2)
    with crowd(base, everyone, cases, tally, first=10_000) as add:
        while True:
            start = time.monotonic()
            time.sleep(STEP_SECONDS)
            end = time.monotonic()
            timings = [t for v in _working(tally.between(start, end)).values() for t in v]
            errors = len(tally.errors_between(start, end))
            p95 = percentile(timings, 0.95) if timings else 0.0
            out.write(
                f"  {len(everyone):>6} {len(timings) / (end - start):>7.1f} "
                f"{percentile(timings, 0.5) * 1000:>8.1f} {p95 * 1000:>8.1f} "
                f"{percentile(timings, 0.99) * 1000:>8.1f} {errors:>7}\n"
            )
            print(out.getvalue().splitlines()[-1], flush=True)
            if p95 > CAPACITY_P95 or errors > 0.01 * max(len(timings), 1):
                break
            capacity = len(everyone)
            if len(everyone) + STEP > MOST:
                out.write("  (the most people this run was given)\n")
                break
            more = _seed(env, STEP // 2, STEP - STEP // 2)
            add(more)
            everyone += more
    out.write(
        f"  capacity: {capacity} people at work at once (p95 under 200 ms, errors under 1%)\n"
    )
    return [p for p in everyone if not p.staff], tally


def _close(database_url: str, sent: list[str]) -> None:
    """The referrals a morning sent, closed (straight in the database, as benchmark data),
    so that the next morning's queue is as long as this one's was."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            update(Case)
            .where(Case.id.in_([uuid.UUID(case_id) for case_id in sent]))
            .values(status=CaseStatus.CLOSED, next_due_at=None, next_due_kind=None)
        )
    engine.dispose()
    vacuum(database_url)


def check_submissions(
    database_url: str, partners: list[Person], sent: list[str], out: io.StringIO
) -> None:
    """Every referral a partner saw sent is in the database once: one submitted case,
    one reference, one audit event, one acknowledgement."""
    ids = [uuid.UUID(case_id) for case_id in sent]
    senders = [uuid.UUID(p.user_id) for p in partners]
    engine = create_engine(database_url)
    with engine.connect() as connection:
        cases = connection.execute(
            select(Case.id, Case.status, Case.reference).where(Case.id.in_(ids))
        ).all()
        by_bench = connection.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.submitted_by_id.in_(senders), Case.status != CaseStatus.DRAFT)
        )
        audited = connection.scalar(
            select(func.count(func.distinct(AuditEvent.case_id))).where(
                AuditEvent.kind == AuditKind.CASE_SUBMITTED, AuditEvent.case_id.in_(ids)
            )
        )
        audit_events = connection.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.kind == AuditKind.CASE_SUBMITTED, AuditEvent.case_id.in_(ids))
        )
        acknowledged = connection.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.template == "referral_received",
                OutboxMessage.related_user_id.in_(senders),
            )
        )
    engine.dispose()
    references = [row.reference for row in cases]
    kept = [row for row in cases if row.status != CaseStatus.DRAFT and row.reference]
    out.write(
        f"3. Submissions: {len(sent)} seen sent by partners; {len(kept)} in the database, "
        f"sent, with {len(set(references))} distinct references; sent by the bench partners "
        f"in all: {by_bench}; CASE_SUBMITTED events: {audit_events} for {audited} cases; "
        f"acknowledgements: {acknowledged}\n"
    )
    whole = (
        len(kept) == len(sent) == len(set(sent)) == len(set(references)) == by_bench
        and audit_events == audited == len(sent)
        and acknowledged == len(sent)
    )
    out.write(
        "  none lost, none duplicated\n" if whole else "  LOST OR DUPLICATED: see the counts\n"
    )


def run(env: dict[str, str]) -> None:
    database_url = env["PORTAL_DATABASE_URL"]
    if count_cases(database_url) < CASES:
        print(flask(env, "demo-data", "--cases", str(CASES)), end="")
        vacuum(database_url)
    cases = open_cases(database_url)
    out = io.StringIO()
    out.write(
        f"benchmarks/load.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: gunicorn {WORKERS} sync "
        f"workers and PostgreSQL (fsync on) on 127.0.0.1, {os.cpu_count()} cores shared "
        f"with the load generator; {count_cases(database_url):,} cases\n"
    )
    people = _seed(env, LADOS, PARTNERS)
    sent: list[str] = []
    runs: list[dict[str, list[float]]] = []
    server_runs: list[dict[str, list[float]]] = []
    server_log = Path(tempfile.mkdtemp(prefix="bench-load-")) / "access.log"
    with gunicorn(env, server_times=server_log) as base:
        for run_number in range(1, MORNINGS + 1):
            began, written = time.monotonic(), len(out.getvalue())
            tally, timings, in_server = morning(base, people, cases, out, run_number, server_log)
            sent += tally.sent
            runs.append(timings)
            server_runs.append(in_server)
            print(out.getvalue()[written:], end="", flush=True)
            if run_number < MORNINGS:
                _close(database_url, tally.sent)
                # The same people sign in again next: not with a TOTP code already used.
                time.sleep(max(0.0, 61 - (time.monotonic() - began)))
        if MORNINGS > 1:
            median_p95s(runs, "as the load generator saw it", out)
            median_p95s(server_runs, "in the server", out)
        stepped_partners, stepped = step_test(env, base, cases, out)
    partners = [p for p in people if not p.staff] + stepped_partners
    check_submissions(database_url, partners, sent + stepped.sent, out)
    print(out.getvalue(), end="")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(out.getvalue())
    print(f"written to {OUTPUT}")


def main() -> int:
    env = reused_instance()
    if env:
        run(env)
        return 0
    with throwaway_server(DURABLE) as server:
        run(instance(create_database(server, "portal_load")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
