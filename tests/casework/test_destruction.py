"""Destroying cases at the end of their retention: one LADO manager proposes, another
approves with a fresh authenticator code, the nightly run destroys; a legal hold keeps a
case whatever its date; what is destroyed cannot be read again, and the annual report's
figures stay as they were."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from portal import audit_chain, destruction, keystore
from portal.crypto import DecryptionError
from portal.extensions import db
from portal.models import (
    AuditEvent,
    AuditKind,
    BlindIndexEntry,
    Case,
    CaseNote,
    DataKey,
    DestructionBatch,
    DestructionItem,
    LegalHold,
    Meeting,
    Role,
    StoredFile,
    Subject,
    utcnow,
)
from portal.workdays import uk_date
from tests.casework.test_outcomes import _concluded
from tests.client import PortalClient
from tests.conftest import Database
from tests.factories import Account, fresh_code, make_account, make_authority
from tests.meetings.test_meetings import _text
from tests.meetings.test_meetings import lado as lado
from tests.rawdata import appears_in, raw_database_bytes
from tests.referrals.conftest import Place, signed_in_as

TODAY = uk_date(utcnow())


@pytest.fixture
def managers(app: Flask, place: Place) -> tuple[Account, Account]:
    return (
        make_account(app, Role.LADO_MANAGER, authority_id=place.authority_id),
        make_account(app, Role.LADO_MANAGER, authority_id=place.authority_id),
    )


@dataclass
class Due:
    """A case past its retention date, and the two managers' signed-in browsers."""

    case_id: uuid.UUID
    proposer: PortalClient
    approver: PortalClient


@pytest.fixture
def due(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    managers: tuple[Account, Account],
) -> Due:
    case_id = _past_retention(app, place, dsl, lado)
    proposer, approver = (signed_in_as(app, m) for m in managers)
    return Due(case_id, proposer, approver)


def _past_retention(app: Flask, place: Place, dsl: PortalClient, lado: PortalClient) -> uuid.UUID:
    """A concluded referral (a meeting, its place and minutes, an attachment, a note)
    whose retention date was yesterday."""
    case_url = _concluded(app, place, dsl, lado)
    lado.submit(f"{case_url}/notes", {"text": "Spoke to the DSL", "add_note": "Add note"})
    case_id = uuid.UUID(case_url.rsplit("/", 1)[1])
    with app.app_context():
        case = db.session.get_one(Case, case_id)
        case.retained_until = TODAY - timedelta(days=1)
        db.session.commit()
    return case_id


def _retention(place: Place) -> str:
    return f"/authorities/{place.authority_id}/retention"


def _propose(client: PortalClient, place: Place) -> str:
    proposed = client.post_form(f"{_retention(place)}/propose")
    assert proposed.status_code == 302, _text(proposed)
    return str(proposed.headers["Location"])


def _approve(app: Flask, client: PortalClient, account: Account, batch_url: str) -> Any:
    assert account.totp_secret
    return client.submit(batch_url, {"code": fresh_code(app, account.id, account.totp_secret)})


def _run(app: Flask, *options: str) -> str:
    result = app.test_cli_runner().invoke(args=["retention", "run", *options])
    assert result.exit_code == 0, result.output
    return result.output


def _annual_csv(client: PortalClient, place: Place) -> bytes:
    response = client.get(f"/authorities/{place.authority_id}/reports/annual.csv")
    assert response.status_code == 200
    return response.get_data()


def test_one_manager_proposes_another_approves_and_the_run_destroys(
    app: Flask,
    database: Database,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    managers: tuple[Account, Account],
    due: Due,
) -> None:
    case_id, proposer, approver = due.case_id, due.proposer, due.approver
    with app.app_context():
        case = db.session.get_one(Case, case_id)
        reference = case.reference or ""
        subject = db.session.scalars(select(Subject).where(Subject.case_id == case_id)).one()
        sealed_name = db.session.execute(
            text("SELECT full_name FROM subjects WHERE id = :id"),
            {"id": subject.id.hex if database.kind == "sqlite" else subject.id},
        ).scalar_one()
        subject_id = subject.id
        files_before = db.session.scalars(
            select(StoredFile.id).where(StoredFile.owner_id == case_id)
        ).all()
    assert files_before  # the referral's attachment
    report_before = _annual_csv(lado, place)

    page = _text(proposer.get(_retention(place)))
    assert reference in page
    assert "Due" in page
    batch_url = _propose(proposer, place)
    assert "Another LADO manager must approve" in _text(proposer.get(batch_url))

    # The proposer cannot approve their own batch, even with a good code.
    own = _approve(app, proposer, managers[0], batch_url)
    assert own.status_code == 200
    assert "you proposed it" in _text(own)
    # The other manager: a code is needed, and a right one.
    for code, message in (
        ("", "Enter the security code from your authenticator app"),
        ("12345", "The security code must be 6 numbers"),
        ("000000", "The security code is not right or has already been used"),
    ):
        refused = approver.submit(batch_url, {"code": code})
        assert refused.status_code == 200
        assert message in _text(refused)
    with app.app_context():
        assert db.session.scalars(select(DestructionBatch)).one().state == "proposed"
    assert _approve(app, approver, managers[1], batch_url).status_code == 302
    assert "will be destroyed at the next retention run" in _text(approver.get(batch_url))

    # A dry run says what would go and changes nothing.
    assert f"Would destroy 1 case(s): {reference}" in _run(app, "--dry-run")
    with app.app_context():
        assert db.session.get_one(Case, case_id).destroyed_at is None

    assert f"Destroyed 1 case(s): {reference}" in _run(app)
    with app.app_context():
        case = db.session.get_one(Case, case_id)
        assert case.destroyed_at is not None
        # The clear columns the reports count are kept; the sealed ones are gone.
        assert case.outcome is not None
        assert case.received_at is not None
        assert case.allegation is None
        assert case.referrer_name is None
        kept_subject = db.session.get_one(Subject, subject_id)
        assert kept_subject.full_name is None
        assert kept_subject.date_of_birth is None
        meetings = db.session.scalars(select(Meeting).where(Meeting.case_id == case_id)).all()
        assert [m.place for m in meetings] == [None]
        assert not db.session.scalars(select(CaseNote).where(CaseNote.case_id == case_id)).all()
        assert not db.session.scalars(
            select(StoredFile).where(StoredFile.owner_id == case_id)
        ).all()
        keys = db.session.scalars(select(DataKey).where(DataKey.owner_id == case_id)).all()
        assert keys
        assert all(k.state == "destroyed" for k in keys)
        assert all(k.wrapped is None for k in keys)
        # A value copied before cannot be opened with what the database now holds.
        with pytest.raises(DecryptionError):
            keystore.keys().unseal("subjects", "full_name", subject_id, bytes(sealed_name))
        # Nor is the subject found by name and date of birth any more.
        assert not db.session.scalars(
            select(BlindIndexEntry).where(BlindIndexEntry.owner_id == subject_id)
        ).all()
        assert db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.kind == AuditKind.CASE_DESTROYED, AuditEvent.case_id == case_id
            )
        ).one()
        with db.engine.connect() as connection:
            assert audit_chain.verify(connection).intact
    assert not appears_in(raw_database_bytes(database), "Spoke to the DSL")

    # The LADO's team sees that it was destroyed; the referrer no longer sees it at all.
    case_url = f"/authorities/{place.authority_id}/cases/{case_id}"
    assert "This case has been destroyed" in _text(lado.get(case_url))
    assert lado.get(f"{case_url}/closure-letter").status_code == 404
    assert dsl.get(f"/organisations/{place.school_id}/referrals/{case_id}").status_code == 404
    assert reference not in _text(proposer.get(_retention(place))).split("Destruction batches")[0]
    # Past reports still add up.
    assert _annual_csv(lado, place) == report_before
    # A second run has nothing to do.
    assert "Destroyed 0 case(s)" in _run(app)


def test_a_legal_hold_keeps_a_case_past_its_date(
    app: Flask,
    place: Place,
    managers: tuple[Account, Account],
    due: Due,
) -> None:
    case_id, proposer, approver = due.case_id, due.proposer, due.approver
    hold_url = f"/authorities/{place.authority_id}/cases/{case_id}/legal-hold"

    empty = proposer.submit(hold_url, {"reason": ""})
    assert empty.status_code == 200
    assert "Enter why the case must be kept" in _text(empty)
    too_long = proposer.submit(hold_url, {"reason": "x" * 2001})
    assert "x" * 2001 in _text(too_long)  # kept, with the message
    assert "The reason must be 2,000 characters or fewer" in _text(too_long)
    assert proposer.submit(hold_url, {"reason": "A claim against the council"}).status_code == 302
    assert "A claim against the council" in _text(proposer.get(hold_url))
    case_page = _text(proposer.get(f"/authorities/{place.authority_id}/cases/{case_id}"))
    assert "This case is under a legal hold" in case_page

    page = _text(proposer.get(_retention(place)))
    assert "Legal hold" in page
    refused = proposer.post_form(f"{_retention(place)}/propose")
    assert "No case is due for destruction" in _text(proposer.get(_retention(place)))
    assert refused.status_code == 302
    with app.app_context():
        case = db.session.get_one(Case, case_id)
        with pytest.raises(destruction.RetentionError, match="legal hold"):
            destruction.destroy_case(case)
        db.session.rollback()

    # Lifted, proposed and approved; then held again before the run: it is kept.
    assert proposer.post_form(f"{hold_url}/lift").status_code == 302
    batch_url = _propose(proposer, place)
    assert _approve(app, approver, managers[1], batch_url).status_code == 302
    assert (
        proposer.submit(hold_url, {"reason": "The police asked us to keep it"}).status_code == 302
    )
    assert "under a legal hold" in _run(app)
    with app.app_context():
        assert db.session.get_one(Case, case_id).destroyed_at is None
        assert db.session.scalars(select(DestructionItem.skipped)).one() == "legal_hold"
        assert len(db.session.scalars(select(LegalHold)).all()) == 2
    assert "Kept: under a legal hold" in _text(proposer.get(batch_url))


def test_a_withdrawn_batch_destroys_nothing(
    app: Flask,
    place: Place,
    managers: tuple[Account, Account],
    due: Due,
) -> None:
    case_id, proposer, approver = due.case_id, due.proposer, due.approver
    batch_url = _propose(proposer, place)
    assert approver.post_form(f"{batch_url}/withdraw").status_code == 302
    assert "Withdrawn" in _text(approver.get(batch_url))
    # Approving a withdrawn batch is not offered, and posting does nothing.
    assert "Approve and destroy" not in _text(approver.get(batch_url))
    _approve(app, approver, managers[1], batch_url)
    assert "Destroyed 0 case(s)" in _run(app)
    assert "1 past their retention date and not yet proposed" in _run(app)
    with app.app_context():
        assert db.session.get_one(Case, case_id).destroyed_at is None


def test_only_the_authoritys_lado_managers_reach_retention(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    managers: tuple[Account, Account],
) -> None:
    case_id = _past_retention(app, place, dsl, lado)
    proposer = signed_in_as(app, managers[0])
    batch_url = _propose(proposer, place)
    hold_url = f"/authorities/{place.authority_id}/cases/{case_id}/legal-hold"
    # A LADO (not a manager) is refused; a partner, and another authority's manager,
    # are told there is nothing there.
    for url in (_retention(place), batch_url, hold_url):
        assert lado.get(url).status_code == 403
        assert dsl.get(url).status_code == 404
    elsewhere = make_account(app, Role.LADO_MANAGER, authority_id=make_authority(app))
    stranger = signed_in_as(app, elsewhere)
    for url in (_retention(place), batch_url, hold_url):
        assert stranger.get(url).status_code == 404
