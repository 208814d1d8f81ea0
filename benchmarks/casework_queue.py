"""The LADO's queue and case page over 100,000 cases: gunicorn + PostgreSQL on 127.0.0.1.

    .venv/bin/python -m benchmarks.casework_queue     (wrk from Debian: make bench-tools)

A throwaway PostgreSQL (or BENCH_DATABASE_URL's server), an instance made as `make run`
makes one, `flask demo-data --cases BENCH_CASES` (default 100,000: six years of closed
cases and a working set of open ones over the two demo authorities; about 30 minutes on
2 cores), and 50 LADO staff accounts. To measure again over data already loaded, give
BENCH_INSTANCE (its instance folder) and BENCH_DATABASE_URL (its database).
gunicorn runs BENCH_WORKERS sync workers (default 4). In one run it measures:

1. service time for one user, one request at a time: the queue's first page, a filtered
   page, page 50, and the case page of open cases (p50 and p95 of BENCH_REQUESTS each);
2. 50 LADO users, each signed in, doing a queue page or a case page and then thinking
   for 5 s (4 to 6), for BENCH_DURATION seconds: p50 / p95 per page and errors;
3. saturation throughput (wrk, BENCH_CONNECTIONS connections for BENCH_SATURATION s) of
   the queue's first page beside a bare Flask page (benchmarks/bare_app.py) under the
   same gunicorn, and beside the portal's signed-in home page (a session and the GOV.UK
   template, nothing else), alternately, twice each.

Goals (issue 6): p95 < 50 ms in 1 and 2, 0 errors; the queue page >= 25% of the bare
page's requests per second. Printed, never asserted.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.common import databases, percentile
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
from portal.demo import ACCOUNTS

CASES = int(os.environ.get("BENCH_CASES", "100000"))
USERS = int(os.environ.get("BENCH_USERS", "50"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
DURATION = float(os.environ.get("BENCH_DURATION", "120"))
SATURATION = int(os.environ.get("BENCH_SATURATION", "20"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))

# Made in its own process with the server's environment (the same password hashing).
SEED = """
import sys, uuid
from sqlalchemy import select
from portal import create_app
from portal.auth import passwords
from portal.extensions import db
from portal.models import Authority, Membership, Role, User, utcnow

users, password, run = int(sys.argv[1]), sys.argv[2], sys.argv[3]
app = create_app()
with app.app_context():
    authorities = db.session.scalars(select(Authority).order_by(Authority.created_at)).all()
    hashed, now = passwords.hash_password(password), utcnow()
    for number in range(users):
        secret = sys.stdin.readline().strip()
        authority = authorities[0] if number < 2 or number % 5 < 3 else authorities[1]
        role = Role.BUSINESS_SUPPORT if number % 4 == 3 else Role.LADO  # 0, 1: LADOs
        user = User(id=uuid.uuid4(), email=f"lado{number}.{run}@bench.example",
            full_name=f"Bench Officer {number}", password_hash=hashed,
            password_changed_at=now, totp_secret=secret, mfa_enrolled_at=now)
        user.memberships.append(Membership(role=role, authority_id=authority.id))
        db.session.add(user)
        print(user.email, authority.id)
    db.session.commit()
"""


@dataclass(frozen=True)
class Officer:
    email: str
    totp_secret: str
    authority_id: str


def _seed(env: dict[str, str]) -> list[Officer]:
    run = uuid.uuid4().hex[:8]  # a second run over the same data makes new accounts
    return [
        Officer(email, secret, authority)
        for (email, authority), secret in seed(env, SEED, USERS + 2, PASSWORD, run)
    ]


# How often staff open each page: the first page of the queue most.
STAFF_WEIGHTS = {"queue, first page": 40, "queue, filtered": 15, "queue, page 50": 10}
STAFF_WEIGHTS["case page"] = 35


def staff_pages(authority_id: str, cases: list[str]) -> dict[str, Callable[[random.Random], str]]:
    """The pages LADO staff open, by label: each a path for a random choice."""
    queue = f"/authorities/{authority_id}/queue"
    return {
        "queue, first page": lambda rng: queue,
        "queue, filtered": lambda rng: f"{queue}?status=meetings&category=physical",
        "queue, page 50": lambda rng: f"{queue}?page=50",
        "case page": lambda rng: f"/authorities/{authority_id}/cases/{rng.choice(cases)}",
    }


def _report(title: str, timings: dict[str, list[float]]) -> None:
    print(title)
    print(f"  {'page':<26} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, values in timings.items():
        if not values:
            continue
        print(
            f"  {label:<26} {len(values):>5} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.95) * 1000:>8.1f} {max(values) * 1000:>8.1f}"
        )


def one_user(base: str, officer: Officer, cases: list[str]) -> None:
    timings: dict[str, list[float]] = defaultdict(list)
    browser = Browser(base, defaultdict(list), [])
    browser.sign_in(officer.email, PASSWORD, officer.totp_secret)
    rng = random.Random(1)
    for label, path in staff_pages(officer.authority_id, cases).items():
        for _ in range(10):  # warm up
            browser.page(label, path(rng))
        browser.timings.clear()
        for _ in range(REQUESTS):
            browser.page(label, path(rng))
        timings[label] = browser.timings[f"GET  {label}"]
    _report(f"1. one user, {REQUESTS} requests per page, one at a time:", timings)


def many_users(base: str, officers: list[Officer], cases: dict[str, list[str]]) -> None:
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    signed_in = threading.Barrier(len(officers))
    weights = STAFF_WEIGHTS

    def work(number: int, officer: Officer) -> None:
        browser = Browser(base, timings, errors)
        rng = random.Random(number)
        try:
            browser.sign_in(officer.email, PASSWORD, officer.totp_secret)
        except Exception as error:  # counted and printed, not raised
            errors.append(f"{officer.email} sign-in: {error}")
        finally:
            signed_in.wait()
        pages = staff_pages(officer.authority_id, cases[officer.authority_id])
        time.sleep(rng.uniform(0, 5))  # not all at the same instant
        ends = time.monotonic() + DURATION
        while time.monotonic() < ends:
            label = rng.choices(list(weights), weights=list(weights.values()))[0]
            try:
                browser.page(label, pages[label](rng))
            except Exception as error:
                errors.append(f"{label}: {error}")
            time.sleep(rng.uniform(4, 6))

    threads = [
        threading.Thread(target=work, args=(number, officer))
        for number, officer in enumerate(officers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sign_ins = timings.pop("GET  sign in", []) + timings.pop("POST sign in", [])
    for label in ("GET  security code", "POST security code"):
        timings.pop(label, None)
    _report(
        f"2. {len(officers)} users, think time 4-6 s, for {DURATION:.0f} s "
        f"(after {len(sign_ins) // 2} sign-ins):",
        dict(sorted(timings.items())),
    )
    print(f"  errors: {len(errors)}")
    for error in errors[:10]:
        print("   ", error)


def _wrk(url: str, headers: dict[str, str]) -> float:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SATURATION}s", "--latency", url]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        print(f"  ({errors.group(1)} non-2xx responses from {url})")
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not found:
        raise RuntimeError(output)
    return float(found.group(1))


def saturation(base: str, bare: str, officer: Officer) -> None:
    browser = Browser(base, defaultdict(list), [])
    browser.sign_in(officer.email, PASSWORD, officer.totp_secret)
    # The browser's cookie and user agent: the session is bound to the latter.
    headers = {
        "Cookie": "; ".join(f"{c.name}={c.value}" for c in browser.http.cookies),
        "User-Agent": str(browser.http.headers["User-Agent"]),
    }
    queue = f"{base}/authorities/{officer.authority_id}/queue"
    rates: dict[str, list[float]] = defaultdict(list)
    for _ in range(2):
        rates["queue page"].append(_wrk(queue, headers))
        rates["bare Flask page"].append(_wrk(f"{bare}/", {}))
        # The portal's own floor: a page with a session and the GOV.UK template, and
        # nothing of its own to look up.
        rates["signed-in home page"].append(_wrk(f"{base}/", headers))
    browser.page("still signed in", queue[len(base) :])  # wrk's answers were the page
    queue_rate = sum(rates["queue page"]) / 2
    bare_rate = sum(rates["bare Flask page"]) / 2
    home_rate = sum(rates["signed-in home page"]) / 2
    print(
        f"3. saturation, wrk {CONNECTIONS} connections x {SATURATION} s, twice each, alternately:"
    )
    for label, values in rates.items():
        print(f"  {label:<20} " + " / ".join(f"{v:.0f}" for v in values) + " requests/s")
    print(f"  queue page: {queue_rate / bare_rate:.0%} of the bare page's requests per second")
    print(f"  queue page: {queue_rate / home_rate:.0%} of the signed-in home page's")


def run(database_url: str) -> None:
    env = reused_instance() or instance(database_url)
    if count_cases(env["PORTAL_DATABASE_URL"]) < CASES:
        print(flask(env, "demo-data", "--cases", str(CASES)), end="")
        vacuum(env["PORTAL_DATABASE_URL"])
    database_url = env["PORTAL_DATABASE_URL"]
    officers = _seed(env)
    cases = open_cases(database_url)
    # One officer for phase 1, another for phase 3, the rest for phase 2: a TOTP code
    # is good once, so no one signs in twice within its 30 seconds.
    first, last = officers[0], officers[1]
    crowd = officers[2:]
    print(
        f"gunicorn {WORKERS} sync workers, PostgreSQL, {os.cpu_count()} cores; "
        f"demo accounts: {len(ACCOUNTS)}; bench officers: {len(officers)}"
    )
    with gunicorn(env) as base:
        one_user(base, first, cases[first.authority_id])
        many_users(base, crowd, cases)
        with gunicorn(env, app="benchmarks.bare_app:app", ready_path="/") as bare:
            saturation(base, bare, last)


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is needed for the saturation figures: make bench-tools (Debian's wrk)")
        return 1
    if os.environ.get("BENCH_INSTANCE"):
        run(os.environ["BENCH_DATABASE_URL"])
        return 0
    with databases(("postgresql",)) as found:
        for _name, url in found:
            run(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
