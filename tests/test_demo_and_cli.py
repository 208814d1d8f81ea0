"""The demo data, the README's account table, and the operators' commands."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pyotp
from flask import Flask
from sqlalchemy import func, select

from portal import audit_chain, demo, keystore, workflow
from portal.casework.repeats import PERSON
from portal.checklists import Agency
from portal.extensions import db
from portal.models import (
    Authority,
    Case,
    CaseEvent,
    CaseStatus,
    Deadline,
    InformationRequest,
    Invitation,
    Organisation,
    OutboxMessage,
    Role,
    Subject,
    User,
    utcnow,
)
from portal.vocabulary import OrganisationType
from portal.workdays import uk_date
from tests.conftest import Mailbox

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| ([^|]+) \| ([^|]+) \| `([^`]+)` \| `([^`]+)` \| `([A-Z2-7]+)` \|$", re.M)


def readme_accounts() -> list[tuple[str, str, str, str, str]]:
    text = (ROOT / "README.md").read_text()
    return [tuple(part.strip() for part in row) for row in ROW.findall(text)]  # type: ignore[misc]


def test_the_readme_lists_exactly_the_demo_accounts() -> None:
    places = {a.code: a.name for a in demo.AUTHORITIES}
    places.update({o.key: o.name for o in demo.ORGANISATIONS})
    expected = [
        (a.label, places[a.place], a.email, demo.DEMO_PASSWORD, a.totp_secret)
        for a in demo.ACCOUNTS
    ]
    assert readme_accounts() == expected


def test_demo_data_covers_every_role_and_the_organisation_kinds(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data", "--if-empty"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Authority)) == 2
        kinds = {o.type for o in db.session.scalars(select(Organisation))}
        assert {
            OrganisationType.EDUCATION,
            OrganisationType.POLICE,
            OrganisationType.CHILDRENS_SOCIAL_CARE,
            OrganisationType.EXTERNAL_SOCIAL_CARE,
            OrganisationType.VOLUNTARY_REGULATORY,
        } <= kinds
        assert db.session.scalar(select(func.count()).select_from(Organisation)) >= 6
        roles = {m.role for u in db.session.scalars(select(User)) for m in u.memberships}
        assert roles == set(Role)
        # A sent referral, one at its meeting and a draft from Oakwood, a contact the
        # LADO logged and one about the same person in Eastmere, and a referral closed
        # long ago and past its retention date.
        cases = db.session.scalars(select(Case).order_by(Case.created_at)).all()
        assert [(c.status, c.logged) for c in cases] == [
            (CaseStatus.SUBMITTED, False),
            (CaseStatus.REFERRAL, False),
            (CaseStatus.DRAFT, False),
            (CaseStatus.SUBMITTED, True),
            (CaseStatus.SUBMITTED, True),
            (CaseStatus.CLOSED, False),
        ]
        year = uk_date(utcnow()).year
        long_ago = uk_date(utcnow() - timedelta(days=11 * 365)).year
        assert [c.reference for c in cases] == [
            f"BRK-{year}-00001",
            f"BRK-{year}-00002",
            None,
            f"BRK-{year}-00003",
            f"EAS-{year}-00001",
            f"BRK-{long_ago}-00001",
        ]
        assert cases[-1].retained_until is not None
        assert cases[-1].retained_until < uk_date(utcnow())
        # Its meeting, with the three agencies asked: the police have answered.
        requests = db.session.scalars(select(InformationRequest)).all()
        assert {r.agency for r in requests} == set(Agency)
        assert sum(r.submitted_at is not None for r in requests) == 1
        assert cases[0].subject is not None
        assert cases[0].subject.full_name == "Sam Example (demo)"
    # The events of every service the demo goes through wait to be chained (a command,
    # not a request, recorded them); chained as the hourly housekeeping would, they
    # verify.
    assert "audit event(s) left waiting" in runner.invoke(args=["housekeeping"]).output
    with app.app_context(), db.engine.connect() as connection:
        verdict = audit_chain.verify(connection)
    assert verdict.problems == []
    assert verdict.checked > 50
    assert verdict.waiting == 0
    # A second run leaves the data alone.
    again = runner.invoke(args=["demo-data", "--if-empty"])
    assert "already has data" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Authority)) == 2


def test_a_volume_of_fictional_cases_follows_the_machine(app: Flask) -> None:
    """``flask demo-data --cases N``: the benchmark's data. Cases are open and closed,
    each with its subject (sealed, in the blind index), its history and its deadlines,
    references never repeat, and a second load adds to the first."""
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo-data", "--cases", "150"])
        assert result.exit_code == 0, result.output
        assert "Added 150 fictional cases" in result.output
    assert "-1 is not in the range" in runner.invoke(args=["demo-data", "--cases", "-1"]).output
    with app.app_context():
        cases = db.session.scalars(select(Case).where(Case.reference.like("%-%"))).all()
        assert len(cases) == 305  # and the demo's own five
        assert len({(c.authority_id, c.reference) for c in cases}) == len(cases)
        statuses = Counter(c.status for c in cases)
        assert statuses[CaseStatus.CLOSED] > 200
        assert len(statuses) > 2  # a working set of open cases too
        for case in cases:
            events = db.session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id)
                .order_by(CaseEvent.occurred_at)
            ).all()
            assert events[0].transition == "submit"
            assert events[-1].to_status == case.status
            for before, after in itertools.pairwise(events):
                assert after.from_status == before.to_status
                assert before.to_status in workflow.TRANSITIONS[after.transition].sources
            assert case.subject is not None
            assert case.subject.full_name
        open_deadlines = db.session.scalars(select(Deadline).where(Deadline.met_at.is_(None)))
        assert {d.case_id for d in open_deadlines} <= {
            c.id for c in cases if c.status != CaseStatus.CLOSED
        }
        subject = cases[0].subject
        assert subject is not None
        assert keystore.find_ids(
            Subject, PERSON, full_name=subject.full_name, date_of_birth=subject.date_of_birth
        )


def test_every_readme_account_signs_in(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["demo-data"])
    for role, _place, email, password, secret in readme_accounts():
        browser = app.test_client()
        response = browser.submit("/sign-in", {"email": email, "password": password})
        assert response.headers["Location"] == "/sign-in/security-code", email
        response = browser.submit("/sign-in/security-code", {"code": pyotp.TOTP(secret).now()})
        assert response.headers["Location"] == "/", email
        home = browser.get("/", follow_redirects=True)  # a subject goes on to their cases
        assert home.status_code == 200
        assert home.request.path == ("/your-cases" if role.startswith("Subject") else "/")


def test_creating_an_authority_and_inviting_its_first_administrator(
    app: Flask, mailbox: Mailbox
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "authority",
            "create",
            "--code",
            "nrt",
            "--name",
            "Northtown Council",
            "--privacy-notice-url",
            "https://northtown.example/privacy",
        ]
    )
    assert result.exit_code == 0, result.output
    duplicate = runner.invoke(
        args=[
            "authority",
            "create",
            "--code",
            "NRT",
            "--name",
            "X",
            "--privacy-notice-url",
            "https://x.example",
        ]
    )
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output
    result = runner.invoke(
        args=[
            "authority",
            "invite-admin",
            "--code",
            "NRT",
            "--email",
            "it@northtown.example",
            "--name",
            "Ida It",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        assert invitation.roles == [Role.AUTHORITY_ADMIN]
        assert db.session.scalars(select(OutboxMessage)).one().recipient == "it@northtown.example"
    result = runner.invoke(args=["outbox", "send"])
    assert "Sent 1 e-mail" in result.output
    assert "https://portal.test/invitation/" in mailbox.last()["body"]
    unknown = runner.invoke(
        args=["authority", "invite-admin", "--code", "ZZZ", "--email", "a@b.example", "--name", "A"]
    )
    assert unknown.exit_code != 0
    assert "No authority has the code ZZZ" in unknown.output


def test_housekeeping(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code == 0
    assert "expired session" in result.output
