"""The annual report and the timeliness dashboard over 100,000 cases on PostgreSQL: how
long each takes to count; and how fast a 10,000-row tracker imports.

A throwaway PostgreSQL (or BENCH_DATABASE_URL's server), an instance made as `make run`
makes one, and `flask demo-data --cases BENCH_CASES` (default 100,000: six years of two
authorities' cases, with outcomes, concluding actions and referrals on). The report for
each of the last BENCH_YEARS reporting years of the busier authority is drawn
BENCH_RUNS times in-process (the same code the page and the downloads call); the
figures printed are the median and slowest run of each, and the database's own time
for the slowest query. The dashboard (the last 12 months) likewise. Goal: under 1
second each. Then BENCH_IMPORT_ROWS (10,000) tracker rows are checked and imported
into a new authority: rows per second, for each step.

    .venv/bin/python -m benchmarks.annual_report
    BENCH_INSTANCE=... BENCH_DATABASE_URL=... .venv/bin/python -m benchmarks.annual_report
"""

from __future__ import annotations

import csv
import io
import os
import statistics
import time
import uuid

from sqlalchemy import event, func, select

from benchmarks.casework_queue import _count_cases, _reused, _vacuum
from benchmarks.common import databases
from benchmarks.server import flask, instance

CASES = int(os.environ.get("BENCH_CASES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
YEARS = int(os.environ.get("BENCH_YEARS", "3"))
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))


def run(env: dict[str, str]) -> None:
    if _count_cases(env["PORTAL_DATABASE_URL"]) < CASES:
        print(flask(env, "demo-data", "--cases", str(CASES)), end="")
        _vacuum(env["PORTAL_DATABASE_URL"])
    print(
        f"To measure again over the same data: BENCH_INSTANCE={env['PORTAL_INSTANCE_PATH']} "
        f"BENCH_DATABASE_URL={env['PORTAL_DATABASE_URL']}"
    )
    os.environ.update(env)
    from portal import create_app
    from portal.config import Settings
    from portal.extensions import db
    from portal.models import Authority, Case, utcnow
    from portal.reports.annual import annual_report, reporting_year_of
    from portal.reports.dashboard import dashboard
    from portal.retention import add_years
    from portal.workdays import uk_date

    app = create_app(Settings.from_environment())
    with app.app_context():
        statements: list[float] = []

        @event.listens_for(db.engine, "before_cursor_execute")
        def started(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            conn.info["started"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def finished(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            statements.append(time.perf_counter() - conn.info.pop("started"))

        counts = db.session.execute(
            select(Case.authority_id, func.count()).group_by(Case.authority_id)
        ).all()
        busiest_id, _ = max(counts, key=lambda row: row[1])
        busiest = db.session.get_one(Authority, busiest_id)
        print(f"{sum(n for _, n in counts):,} cases in all; {busiest.display_name}'s report")
        this_year = reporting_year_of(uk_date(utcnow()))
        for year in range(this_year - YEARS + 1, this_year + 1):
            timings, slowest_query, queries = [], 0.0, 0
            for _ in range(RUNS):
                statements.clear()
                started_at = time.perf_counter()
                report = annual_report(busiest, year)
                timings.append(time.perf_counter() - started_at)
                slowest_query = max(slowest_query, max(statements))
                queries = len(statements)
                db.session.rollback()
            contacts = report.tables[0].rows[0][1]
            median = statistics.median(timings) * 1000
            print(
                f"{report.name}: {contacts:,} contacts; median {median:.0f} ms, "
                f"slowest {max(timings) * 1000:.0f} ms over {RUNS} runs; {queries} queries, "
                f"the slowest {slowest_query * 1000:.0f} ms",
                flush=True,
            )
        today = uk_date(utcnow())
        timings = []
        for _ in range(RUNS):
            started_at = time.perf_counter()
            dashboard(busiest, add_years(today, -1), today)
            timings.append(time.perf_counter() - started_at)
            db.session.rollback()
        print(
            f"Dashboard, last 12 months: median {statistics.median(timings) * 1000:.0f} ms, "
            f"slowest {max(timings) * 1000:.0f} ms over {RUNS} runs",
            flush=True,
        )
        _import_rate(busiest)


def _import_rate(like: object) -> None:
    """A tracker of IMPORT_ROWS rows (as tests/reports/test_tracker.py builds Bromley's),
    checked and then imported into a new authority."""
    from portal.extensions import db
    from portal.models import Authority, Membership, Role, User
    from portal.tracker import check_file, import_rows
    from tests.reports.test_tracker import HEADER, bromley_rows

    code = f"I{uuid.uuid4().hex[:5].upper()}"
    authority = Authority(
        id=uuid.uuid4(),
        code=code,
        display_name=f"Import benchmark {code}",
        privacy_notice_url="https://example.org/privacy",
    )
    admin = User(id=uuid.uuid4(), email=f"admin-{code.lower()}@bench.example", full_name="Admin")
    admin.memberships.append(Membership(role=Role.AUTHORITY_ADMIN, authority_id=authority.id))
    db.session.add_all([authority, admin])
    db.session.commit()
    template = bromley_rows()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    for number in range(IMPORT_ROWS):
        row = dict(template[number % len(template)])
        row["reference"] = f"{code}-{number:06d}"
        row["subject_name"] = f"Person {number}"
        writer.writerow(row)
    data = out.getvalue().encode()
    started_at = time.perf_counter()
    checked = check_file(io.BytesIO(data), "tracker.csv", authority)
    checking = time.perf_counter() - started_at
    started_at = time.perf_counter()
    import_rows(authority, admin, checked.rows)
    db.session.commit()
    importing = time.perf_counter() - started_at
    print(
        f"Tracker of {IMPORT_ROWS:,} rows ({len(data) / 1e6:.1f} MB, names sealed): checked at "
        f"{IMPORT_ROWS / checking:,.0f} rows/s, imported at {IMPORT_ROWS / importing:,.0f} rows/s "
        f"({checking + importing:.1f} s in all); {len(checked.problems)} problems",
        flush=True,
    )


def main() -> int:
    reused = _reused()
    if reused:
        run(reused)
        return 0
    with databases(("postgresql",)) as found:
        for _name, url in found:
            run(instance(url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
