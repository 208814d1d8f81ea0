"""50 partners sending referrals at once to gunicorn on 127.0.0.1, over PostgreSQL.

    .venv/bin/python -m benchmarks.referral_submission

A throwaway PostgreSQL (or BENCH_DATABASE_URL's server), an instance folder made as
`make run` makes one (`flask secrets init`, `flask keys init`, `flask db upgrade`), and
gunicorn with BENCH_WORKERS sync workers (default 4). Each partner is a thread with its
own HTTP session, as a browser: it signs in with password and TOTP, starts a referral,
answers every page, adds a child and a 200 KB PDF, checks its answers and sends, then
sends again (the back button and a second click). All 50 start together.

Prints the p50 and p95 time of each page (GET and POST separately), how many referrals
were sent, and checks the database afterwards: exactly one submitted case per partner,
every reference different, one acknowledgement and one audit event per referral. None
lost, none duplicated.

Goal (issue 5): none lost or duplicated; pages answer in well under a second at p95
(password sign-in excepted: Argon2 is slow on purpose).
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, func, select

from benchmarks.common import databases, percentile
from benchmarks.server import PASSWORD, WORKERS, Browser, gunicorn, instance, seed
from portal.models import AuditEvent, AuditKind, Case, CaseStatus, OutboxMessage
from tests.referrals import journey

PARTNERS = int(os.environ.get("BENCH_PARTNERS", "50"))
ORGANISATIONS = 10
PDF = journey.PDF.replace(b"%%EOF", b"%" + b"x" * 200_000 + b"\n%%EOF")


# Run in its own process with the gunicorn environment, so the accounts are made by the
# same settings (and password hashing) the server uses.
SEED = """
import sys, uuid
from portal import create_app
from portal.auth import passwords
from portal.extensions import db
from portal.models import (Authority, Membership, Organisation, OrganisationAuthority,
    Role, User, utcnow)
from portal.vocabulary import MeetingName, OrganisationType, SectorGroup

partners, organisations, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
app = create_app()
with app.app_context():
    authority = Authority(id=uuid.uuid4(), code="BEN", display_name="Benchmark Council",
        meeting_name=MeetingName.ASV, privacy_notice_url="https://ben.example/privacy",
        minutes_working_days=10)
    db.session.add(authority)
    places = []
    for number in range(organisations):
        place = Organisation(id=uuid.uuid4(), name=f"Bench School {number}",
            type=OrganisationType.EDUCATION, sector=SectorGroup.EDUCATION)
        db.session.add(place)
        db.session.add(OrganisationAuthority(organisation_id=place.id,
            authority_id=authority.id, manages_accounts=True))
        places.append(place)
    hashed, now = passwords.hash_password(password), utcnow()
    for number in range(partners):
        secret = sys.stdin.readline().strip()
        user = User(id=uuid.uuid4(), email=f"partner{number}@bench.example",
            full_name=f"Bench Partner {number}", password_hash=hashed,
            password_changed_at=now, totp_secret=secret, mfa_enrolled_at=now)
        place = places[number % organisations]
        user.memberships.append(Membership(role=Role.PARTNER_MEMBER, organisation_id=place.id))
        db.session.add(user)
        print(user.email, place.id, authority.id)
    db.session.commit()
"""


def _seed(env: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(email, TOTP secret, organisation id, authority id) for each partner."""
    return [
        (email, secret, organisation, authority)
        for (email, organisation, authority), secret in seed(
            env, SEED, PARTNERS, str(ORGANISATIONS), PASSWORD
        )
    ]


def refer(
    partner: Browser,
    organisation: str,
    authority: str,
    pause: Callable[[], None] = lambda: None,
    twice: bool = True,
    subject: dict[str, Any] | None = None,
) -> str:
    """A signed-in partner writes a referral page by page (``pause`` between pages is the
    time they take to read and type), adds a child and a PDF, and sends it; with
    ``twice``, sends it again as the back button and a second click would. ``subject``:
    the person it is about (the journey's by default). The case's path."""
    case = partner.fill(
        "start", f"/organisations/{organisation}/referrals/new", {"authority": authority}
    )
    partner.page("task list", case)
    for label, path, answers in (
        ("about you", "about-you", journey.ABOUT_YOU),
        ("person", "person", subject or journey.SUBJECT),
        ("children", "children", {"children_involved": "yes"}),
        ("child", "children/new", journey.CHILD),
        ("what happened", "what-happened", journey.INCIDENT),
        ("actions", "actions", journey.ACTIONS),
    ):
        pause()
        partner.fill(label, f"{case}/{path}", answers)
    pause()
    partner.fill("files", f"{case}/files", {}, files={"file": ("statement.pdf", PDF)})
    pause()
    partner.fill("check and send", f"{case}/check", {})
    if twice:
        # The back button and a second click: the same form again. It must not send twice.
        again = partner.send("send again", f"{case}/check", {})
        if again != case:
            raise RuntimeError(f"a second send went to {again}")
    partner.page("sent", f"{case}/sent")
    return case


def run(database_url: str) -> None:
    env = instance(database_url)
    people = _seed(env)
    timings: dict[str, list[float]] = defaultdict(list)
    failures: list[str] = []
    with gunicorn(env) as base:
        barrier = threading.Barrier(PARTNERS)

        def one(person: tuple[str, str, str, str]) -> None:
            partner = Browser(base, timings, failures)
            barrier.wait()
            try:
                email, secret, organisation, authority = person
                partner.sign_in(email, PASSWORD, secret)
                refer(partner, organisation, authority)
            except Exception as error:  # counted and printed, not raised
                failures.append(f"{person[0]}: {error}")

        threads = [threading.Thread(target=one, args=(person,)) for person in people]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start

    print(
        f"{PARTNERS} partners in {ORGANISATIONS} organisations, gunicorn {WORKERS} sync "
        f"workers, PostgreSQL; {os.cpu_count()} cores"
    )
    print(f"all done in {elapsed:.1f} s; {sum(len(t) for t in timings.values())} requests")
    print(f"{'page':<24} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, values in timings.items():
        print(
            f"{label:<24} {len(values):>4} {percentile(values, 0.5) * 1000:>8.0f} "
            f"{percentile(values, 0.95) * 1000:>8.0f} {max(values) * 1000:>8.0f}"
        )
    if failures:
        print(f"{len(failures)} partner(s) failed:")
        for failure in failures[:10]:
            print("  ", failure)

    engine = create_engine(database_url)
    with engine.connect() as connection:
        sent = connection.execute(
            select(Case.submitted_by_id, Case.reference).where(Case.status == CaseStatus.SUBMITTED)
        ).all()
        all_cases = connection.scalar(select(func.count()).select_from(Case))
        acknowledgements = connection.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "referral_received")
        )
        audited = connection.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.kind == AuditKind.CASE_SUBMITTED)
        )
    engine.dispose()
    senders = [row.submitted_by_id for row in sent]
    references = [row.reference for row in sent]
    print(
        f"cases: {all_cases}; submitted: {len(sent)}; distinct senders: {len(set(senders))}; "
        f"distinct references: {len(set(references))}; acknowledgements: {acknowledgements}; "
        f"CASE_SUBMITTED audit events: {audited}"
    )
    whole = len(sent) == len(set(senders)) == len(set(references)) == PARTNERS
    print(
        "none lost, none duplicated"
        if whole and acknowledgements == audited == PARTNERS and all_cases == PARTNERS
        else "LOST OR DUPLICATED: see the counts above"
    )


def main() -> int:
    with databases(("postgresql",)) as found:
        for _name, url in found:
            run(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
