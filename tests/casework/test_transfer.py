"""Transferring a case to another authority: the case, its history, its files and its
key go to the receiving authority's queue, whose LADOs are told; the sender keeps only
its clear record and its audit trail, and can no longer open the case."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal import keystore, transfers
from portal.extensions import db
from portal.models import (
    AuditEvent,
    AuditKind,
    Case,
    CaseStatus,
    CaseTransfer,
    DataKey,
    Deadline,
    DeadlineKind,
    Role,
    StoredFile,
    Subject,
)
from tests.casework.test_queue_and_case import _move, _sent
from tests.client import PortalClient
from tests.conftest import Mailbox
from tests.factories import Account, make_account, make_authority, step_up
from tests.referrals import journey
from tests.referrals.conftest import Place, signed_in_as

REASONS = "The subject works at a school in the neighbouring council (reason-canary)"


class Neighbour:
    def __init__(self, app: Flask) -> None:
        self.authority_id = make_authority(app, name="Neighbourshire Council", code="NBR")
        self.lado: Account = make_account(app, Role.LADO, authority_id=self.authority_id)
        self.manager: Account = make_account(app, Role.LADO_MANAGER, authority_id=self.authority_id)


@pytest.fixture
def neighbour(app: Flask) -> Neighbour:
    return Neighbour(app)


@pytest.fixture
def lado(app: Flask, place: Place) -> PortalClient:
    return signed_in_as(app, place.lado)


def _in_triage(app: Flask, place: Place, dsl: PortalClient, lado: PortalClient) -> str:
    case_url = _sent(app, place, dsl)
    assert _move(lado, f"{case_url}/start_triage", {}).status_code == 302  # type: ignore[attr-defined]
    return case_url


def _transfer(lado: PortalClient, case_url: str, to: uuid.UUID | str, **data: Any) -> Any:
    return _move(
        lado, f"{case_url}/transfer", {"to_authority": str(to), "rationale": REASONS, **data}
    )


def test_a_transferred_case_goes_to_the_other_authoritys_queue(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    neighbour: Neighbour,
    mailbox: Mailbox,
) -> None:
    case_url = _in_triage(app, place, dsl, lado)
    case_id = journey.case_id_of(case_url)
    response = _transfer(lado, case_url, neighbour.authority_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/authorities/{place.authority_id}/queue")
    queue = html.unescape(lado.get(response.headers["Location"]).get_data(as_text=True))
    assert "has been transferred to Neighbourshire Council" in queue
    assert "0 cases," in queue
    assert lado.get(case_url).status_code == 404  # no longer the sender's to open

    theirs = signed_in_as(app, neighbour.lado)
    their_queue = theirs.get(f"/authorities/{neighbour.authority_id}/queue").get_data(as_text=True)
    assert "1 case," in their_queue
    assert "Transferred" in their_queue
    their_case = f"/authorities/{neighbour.authority_id}/cases/{case_id}"
    page = html.unescape(theirs.get(their_case).get_data(as_text=True))
    assert journey.SUBJECT["full_name"] in page  # decrypted under the receiver's key
    assert REASONS in page  # the sender's reasons, in the history
    assert "Transferred to Neighbourshire Council" in page
    assert "Submitted" in page  # the history from the start
    assert "Start triage" in page
    file_link = re.search(rf'href="({their_case}/files/[0-9a-f-]{{36}})"', page)
    assert file_link
    step_up(theirs, app, neighbour.lado)
    assert theirs.get(file_link.group(1)).status_code == 200
    assert _move(theirs, f"{their_case}/start_triage", {}).status_code == 302

    # Their LADOs are told, with the reference and no case detail.
    told = [m for m in mailbox.all() if m["template"] == "case_transferred_in"]
    assert {m["to"] for m in told} == {neighbour.lado.email, neighbour.manager.email}
    for message in told:
        assert "canary" not in message["subject"] + message["body"].lower()
        assert "Neighbourshire Council" in message["body"]

    with app.app_context():
        case = db.session.get_one(Case, case_id)
        assert case.authority_id == neighbour.authority_id
        assert case.assigned_to_id is None
        transfer = db.session.scalars(select(CaseTransfer)).one()
        assert (transfer.from_authority_id, transfer.to_authority_id) == (
            place.authority_id,
            neighbour.authority_id,
        )
        assert transfer.reference == case.reference
        deadlines = db.session.scalars(select(Deadline).where(Deadline.case_id == case_id)).all()
        # The sender met its response deadline, and keeps it; the receiver has its own.
        held = sorted((d.authority_id == place.authority_id, d.met_at is None) for d in deadlines)
        assert held == [(False, True), (True, False)]
        assert all(d.kind == DeadlineKind.RESPONSE for d in deadlines)
        trails = {
            (e.kind, e.authority_id)
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))
        }
        assert (AuditKind.CASE_MOVED, place.authority_id) in trails
        assert (AuditKind.CASE_TRANSFERRED_IN, neighbour.authority_id) in trails
        reference = case.reference
    # The referrer still follows it, under the same reference.
    assert reference
    assert reference in dsl.get("/referrals", follow_redirects=True).get_data(as_text=True)


def test_the_case_key_is_wrapped_by_the_receiver_alone(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, neighbour: Neighbour
) -> None:
    """Destroy every key of the sending authority: the transferred case still opens,
    so nothing of it depends on the sender's key any more."""
    case_url = _in_triage(app, place, dsl, lado)
    case_id = journey.case_id_of(case_url)
    assert _transfer(lado, case_url, neighbour.authority_id).status_code == 302
    with app.app_context():
        keys = keystore.keys()
        receiver_key = db.session.scalars(
            select(DataKey.id).where(
                DataKey.owner_kind == "authority",
                DataKey.owner_id == neighbour.authority_id,
                DataKey.state == "primary",
            )
        ).one()
        case_keys = db.session.scalars(select(DataKey).where(DataKey.owner_id == case_id)).all()
        assert case_keys
        for key in case_keys:
            assert (key.owner_authority_id, key.wrapper_id) == (
                neighbour.authority_id,
                receiver_key,
            )
        files = db.session.scalars(select(StoredFile).where(StoredFile.owner_id == case_id))
        assert {f.owner_authority_id for f in files} == {neighbour.authority_id}
        for key_id in db.session.scalars(
            select(DataKey.id).where(
                DataKey.owner_kind == "authority", DataKey.owner_id == place.authority_id
            )
        ):
            keys.destroy(key_id)
        db.session.commit()
        keys.forget_cache()
        subject = db.session.scalars(select(Subject).where(Subject.case_id == case_id)).one()
        assert subject.full_name == journey.SUBJECT["full_name"]


def test_every_row_of_the_case_moves_but_the_senders_own_record(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient, neighbour: Neighbour
) -> None:
    case_url = _in_triage(app, place, dsl, lado)
    case_id = journey.case_id_of(case_url)
    lado.submit(f"{case_url}/notes", {"text": "A note that goes with the case"})
    assert _transfer(lado, case_url, neighbour.authority_id).status_code == 302
    left_behind = set()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if {"case_id", "authority_id"} <= set(table.c.keys()):
                count = db.session.execute(
                    select(table.c.case_id).where(
                        table.c.case_id == case_id, table.c.authority_id == place.authority_id
                    )
                ).all()
                if count:
                    left_behind.add(table.name)
        assert left_behind == set(transfers.KEPT_BY_THE_SENDER)
        assert {t.name for t in transfers.case_tables()} >= {
            "subjects",
            "children",
            "case_attachments",
            "case_events",
            "case_notes",
        }


@pytest.mark.parametrize("choice", ["", "not-an-authority", str(uuid.uuid4())])
def test_a_transfer_needs_an_authority_and_keeps_the_reasons(
    app: Flask,
    place: Place,
    dsl: PortalClient,
    lado: PortalClient,
    neighbour: Neighbour,
    choice: str,
) -> None:
    case_url = _in_triage(app, place, dsl, lado)
    response = _transfer(lado, case_url, choice)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Select the authority to transfer it to" in page
    assert "There is a problem" in page
    assert REASONS in page
    with app.app_context():
        case = db.session.get_one(Case, journey.case_id_of(case_url))
        assert (case.status, case.authority_id) == (CaseStatus.IN_TRIAGE, place.authority_id)


def test_a_transfer_to_the_same_authority_is_refused(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    """Not offered on the page; refused by the machine if posted anyway."""
    case_url = _in_triage(app, place, dsl, lado)
    page = lado.get(f"{case_url}/transfer").get_data(as_text=True)
    assert f'value="{place.authority_id}"' not in page
    response = _transfer(lado, case_url, place.authority_id)
    assert response.status_code == 200
    assert "Select the authority to transfer it to" in response.get_data(as_text=True)
    with app.app_context():
        case = db.session.get_one(Case, journey.case_id_of(case_url))
        assert case.status == CaseStatus.IN_TRIAGE
